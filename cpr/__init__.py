"""CPR numbers in free text: the one parser that accepts them and the one redaction that hides them.

A leaf package, imported by the NLU, the ledger and the api alike (it imports none of them), so
that whatever the application flow accepts as a CPR number is exactly what every transcript,
log line and console page redacts.

Accepted spellings, after folding the text (NFKC, any Unicode digit to 0-9, any dash-like
character to "-", any space to " ", invisible format characters dropped):

    0707614285   070761-4285   070761 4285   070761 - 4285   070761.4285   070761/4285
    07 07 61 42 85   07-07-61-4285   07.07.61-4285   07/07/61 4285   070761-42 85

that is ten digits, DDMMYY then four, with either nothing, or one separator (dash, dot,
slash or spaces) between date and serial; the date may be split into pairs by one repeated
separator (then a separator before the serial is required, so "01.02.2026 10.30" is a date
and a time, not a CPR number); the serial may be split into pairs. The first six digits must
be a real date in the 1900s or 2000s: modern CPR numbers need not pass mod 11, so the date is
all that can be checked. A number glued to more digits ("+4501019012", "1234 0101901234",
"0101901234567") is part of something longer and is left alone.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["CPR_MASK", "CprMatch", "contains_cpr", "find_cprs", "fold", "parse_cpr",
           "redact_cpr", "redact_values"]

CPR_MASK = "[CPR]"

_SERIAL_SEP = r"(?:[ \t]*[-./][ \t]*|\s+)"
_CPR = re.compile(
    r"(?<![\d+])(?<!\d[-./\s])"
    r"(?:(?P<date>\d{6})" + _SERIAL_SEP + r"?"
    r"|(?P<dd>\d\d)(?P<gap>[-./]|\s)(?P<mm>\d\d)(?P=gap)(?P<yy>\d\d)" + _SERIAL_SEP + r")"
    r"(?P<serial>\d{4}|\d\d(?:\s|(?P=gap))\d\d)"
    r"(?!\d)(?![-./]\d)"
)
_DASHES = frozenset("\u2212\u2043\ufe63\uff0d")
"""Dash-like characters outside Unicode's dash punctuation category (Pd): minus sign, hyphen
bullet, small and full-width hyphen-minus."""
_LETTERS_AND_MARKS = "æøåÆØÅéÉèÈáÁüÜöÖäÄ§°•·‘’‚“”„«»€"
"""Non-ASCII characters of ordinary Danish text that folding leaves as they are: not digits,
not dashes, not spaces."""
_NEVER_DIGITS = str.maketrans("", "", _LETTERS_AND_MARKS + "–—…")
_AS_ASCII = str.maketrans({**{ch: "a" for ch in _LETTERS_AND_MARKS}, "–": "-", "—": "-"})
"""The same text for the CPR pattern, one character for one, so positions stay the same:
the letters and marks as any letter, the two dashes as folding spells them."""
_ASCII_DIGITS = "0123456789"


def _too_few_digits(text: str) -> bool:
    """True when no folding can give `text` the ten digits of a CPR number: it is ASCII once the
    letters and marks above are left out, and has fewer than ten digits. Most messages are,
    and every message's text is checked several times, so this spares the folding."""
    rest = text if text.isascii() else text.translate(_NEVER_DIGITS)
    return rest.isascii() and sum(map(rest.count, _ASCII_DIGITS)) < 10


@dataclass(frozen=True)
class CprMatch:
    start: int
    """Where the number starts and ends in the text as given (not the folded text)."""
    end: int
    digits: str


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cf":  # zero-width space, soft hyphen, word joiner...: invisible
        return ""
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    if ch in _DASHES or category == "Pd":
        return "-"
    if ch.isspace():
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    if folded in _DASHES or (len(folded) == 1 and unicodedata.category(folded) == "Pd"):
        return "-"
    return folded


def fold(text: str) -> tuple[str, list[int] | None]:
    """The text with digits, dashes and spaces in one spelling, and for each folded character
    the index of the original character it came from (None: ASCII text, unchanged)."""
    if text.isascii():
        return text, None
    out: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        folded = ch if ch.isascii() else _fold_char(ch)
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


def _real_date(six: str) -> bool:
    day, month, year = int(six[:2]), int(six[2:4]), int(six[4:6])
    for century in (1900, 2000):
        try:
            dt.date(century + year, month, day)
            return True
        except ValueError:
            continue
    return False


def _digits(match: re.Match[str]) -> str | None:
    date = match["date"] or match["dd"] + match["mm"] + match["yy"]
    digits = date + re.sub(r"\D", "", match["serial"])
    return digits if _real_date(date) else None


def find_cprs(text: str) -> list[CprMatch]:
    """Every CPR number in `text`, with its place in the text as given."""
    if _too_few_digits(text):
        return []
    plain = text if text.isascii() else text.translate(_AS_ASCII)
    folded, origin = (plain, None) if plain.isascii() else fold(text)
    found = []
    for match in _CPR.finditer(folded):
        digits = _digits(match)
        if digits is None:
            continue
        if origin is None:
            found.append(CprMatch(match.start(), match.end(), digits))
        else:
            found.append(CprMatch(origin[match.start()], origin[match.end() - 1] + 1, digits))
    return found


def redact_cpr(text: str) -> str:
    """Every CPR number in `text` replaced by "[CPR]"; idempotent."""
    found = find_cprs(text)
    if not found:
        return text
    parts, at = [], 0
    for match in found:
        parts += [text[at:match.start], CPR_MASK]
        at = match.end
    parts.append(text[at:])
    return "".join(parts)


def redact_values(value: Any) -> Any:
    """`value` with every string in it (in lists and dicts too) redacted, the shape kept:
    for JSON documents, where redacting the serialised text could touch a number."""
    if isinstance(value, str):
        return redact_cpr(value)
    if isinstance(value, list | tuple):
        return [redact_values(item) for item in value]
    if isinstance(value, dict):
        return {key: redact_values(item) for key, item in value.items()}
    return value


def contains_cpr(text: str) -> bool:
    return bool(find_cprs(text))


def parse_cpr(text: str) -> str | None:
    """The ten digits when the whole text (spaces around it aside) is one CPR number in any
    accepted spelling, else None. Anything this accepts, `redact_cpr` hides."""
    stripped = text.strip()
    found = find_cprs(stripped)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(stripped):
        return found[0].digits
    return None
