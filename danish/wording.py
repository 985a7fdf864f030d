"""Message composition: GSM-7 safe text, Danish figures, and the SMS segment budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from danish.gsm7 import GSM7_BASIC, GSM7_EXTENSION
from danish.money import format_danish, format_danish_whole

_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\u00b4": "'", "\u00ab": '"',
    "\u00bb": '"',
}
SEGMENT_SINGLE = 160
SEGMENT_MULTI = 153


_GSM7 = frozenset(GSM7_BASIC | GSM7_EXTENSION)


def gsm7_safe(text: str) -> str:
    """Replaces typographic characters with GSM-7 ones and drops what has no equivalent."""
    if _GSM7.issuperset(text):  # nearly every reply: nothing to replace, only spaces to tidy
        return " ".join(text.split())
    out = []
    for char in text:
        # Tabs and Unicode spaces (thin, narrow no-break) must separate words, not vanish.
        char = " " if char.isspace() else _REPLACEMENTS.get(char, char)
        if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in char):
            out.append(char)
    return " ".join("".join(out).split())


def tidy(text: str) -> str:
    """An amount ending a sentence would read "kr.."; one full stop is enough."""
    return text.replace("kr..", "kr.")


def septets(text: str) -> int:
    return sum(2 if c in GSM7_EXTENSION else 1 for c in text)


def segments(text: str) -> int:
    """How many SMS segments a GSM-7 text needs."""
    length = septets(text)
    if length <= SEGMENT_SINGLE:
        return 1
    return -(-length // SEGMENT_MULTI)


def kroner(ore: int) -> str:
    return format_danish(ore)


def kroner_whole(ore: int) -> str:
    return format_danish_whole(ore)


def danish_date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def hours_text(hours: Decimal, one: str, many: str) -> str:
    if hours == 1:
        return one
    shown = f"{hours.normalize():f}".replace(".", ",")
    return many.format(hours=shown)


def first_name(name: str) -> str:
    """How we address someone in a message: the first of their names."""
    return name.split()[0] if name.split() else name
