"""The voice composer: a written reply turned into short spoken sentences.

Amounts become words ("to tusind og tres kroner og halvtreds øre"), dates a weekday and a day
("fredag den 5. december"), card numbers figure by figure, phone numbers in pairs and slowly;
links are never read out (the caller is offered the answer by SMS instead); SMS instructions
("Svar JA", "Skriv MERE") become what a caller says or presses (bot/data/speech.da.yml); one
idea per sentence; and a turn is kept within `MAX_TURN_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources
from typing import Any

import yaml

from bot.voice.numbers import WEEKDAYS, amount_words, date_words, digit_words, number_words

MAX_TURN_SECONDS = 25.0
"""What a caller hears in one turn before they may speak again."""
WORDS_PER_SECOND = 2.5
"""A Danish text-to-speech voice at its normal rate (about 150 words a minute)."""
SLOW = 1.6
"""Slowly read sentences (emergency numbers) take this much longer."""
PAUSE_SECONDS = 0.3
"""The pause between two sentences."""
LONG_SENTENCE_WORDS = 18
"""A longer sentence is split where a new idea starts (", og", ", men", ": ")."""


@dataclass(frozen=True)
class Spoken:
    """One sentence for the voice; `slow` for what the caller must catch, like 112."""

    text: str
    slow: bool = False


@dataclass(frozen=True)
class Speech:
    sentences: tuple[Spoken, ...]
    had_link: bool = False
    """A link was left out: the caller may want the answer by SMS."""


@cache
def _rules() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("bot").joinpath("data/speech.da.yml").read_text("utf-8"))
    return raw


@cache
def _rewrites() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(r["find"]), str(r["say"])) for r in _rules()["rewrites"])


@cache
def _abbreviations() -> tuple[tuple[re.Pattern[str], str], ...]:
    found = []
    for short, long in _rules()["abbreviations"].items():
        edge = r"\b" if short[0].isalnum() else ""
        found.append((re.compile(rf"(?<![\w.]){edge}{re.escape(str(short))}(?!\w)",
                                 re.IGNORECASE), str(long)))
    return tuple(found)


def _expand(match: re.Match[str], long: str) -> str:
    """"Fx" at the start of a sentence is "For eksempel"."""
    return long[0].upper() + long[1:] if match.group(0)[0].isupper() else long


@cache
def _keywords() -> re.Pattern[str]:
    words = sorted((str(k) for k in _rules()["keywords"]), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b")


_URL = re.compile(r"(?:,\s*|\s+på\s+|\s+)?\(?(?:https?://\S+|www\.\S+|\b[\w-]+(?:\.[\w-]+)*"
                  r"\.(?:dk|com|org|net|eu)\b(?:/[^\s,)]*)?)\)?", re.IGNORECASE)
_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_SHORT_DATE = re.compile(r"\b(man|tir|ons|tor|fre|lør|søn) (\d{1,2})/(\d{1,2})\b")
_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?\s?"
                     r"(kr\.|kr\b|kroner\b)(?=(\s+[A-ZÆØÅ]|\s*$)?)")
_EMERGENCY = re.compile(r"\b112\b")
_PHONE = re.compile(r"(?:\+45\s?)?\b(\d{2} \d{3} \d{3}|\d{2} \d{2} \d{2} \d{2})\b")
_CARD = re.compile(r"(?<![\d.,])\b(\d{5}|\d{8})\b(?![.,]\d)")
_HALF = re.compile(r"\b(\d+),5\b")
_DECIMAL = re.compile(r"\b(\d+),(\d+)\b")
_LIST_ITEM = re.compile(r"(?:(?<=\s)|^)(\d)\) ")
_PARENS = re.compile(r"\s*\(([^()]*)\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ0-9])|(?<=[!?])\s+")
"""A sentence ends before a capital (or after ! and ?): "den 5. december" goes on."""
_SPLIT_IDEA = re.compile(r",\s+(?=(?:og|men|så|eller)\s)|:\s+")
_SLOW_MARK = "\u2063"
"""An invisible separator marks a sentence to be read slowly until the sentences are made."""


def _amount(match: re.Match[str], ) -> str:
    kroner = int(match.group(1).replace(".", ""))
    ore = int((match.group(2) or "0").ljust(2, "0"))
    words = amount_words(kroner * 100 + ore)
    ends_sentence = match.group(3) == "kr." and match.group(4) is not None
    return f"{words}." if ends_sentence else words


def _short_date(match: re.Match[str], today: dt.date) -> str:
    day, month = int(match.group(2)), int(match.group(3))
    year = today.year
    try:
        found = dt.date(year, month, day)
        if (today - found).days > 180:
            found = dt.date(year + 1, month, day)
    except ValueError:
        return match.group(0)
    return date_words(found, today)


def _long_date(match: re.Match[str], today: dt.date) -> str:
    try:
        found = dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return match.group(0)
    return date_words(found, today)


def _words(text: str, today: dt.date) -> tuple[str, bool]:
    """Numbers, dates, links and SMS words turned for the ear; and whether a link was left out."""
    had_link = _URL.search(text) is not None
    text = _URL.sub("", text)
    text = _DATE.sub(lambda m: _long_date(m, today), text)
    text = _SHORT_DATE.sub(lambda m: _short_date(m, today), text)
    text = _AMOUNT.sub(_amount, text)
    text = _EMERGENCY.sub(f"{_SLOW_MARK}et, et, to", text)
    text = _PHONE.sub(lambda m: f"{_SLOW_MARK}{digit_words(m.group(1), pairs=True)}", text)
    text = _CARD.sub(lambda m: digit_words(m.group(1), pairs=len(m.group(1)) == 8), text)
    text = _HALF.sub(lambda m: f"{number_words(int(m.group(1)))} og en halv", text)
    text = _DECIMAL.sub(lambda m: f"{m.group(1)} komma {m.group(2)}", text)
    text = _LIST_ITEM.sub(lambda m: f"Nummer {m.group(1)}: ", text)
    for pattern, say in _rewrites():
        text = pattern.sub(say, text)
    for pattern, long in _abbreviations():
        text = pattern.sub(partial(_expand, long=long), text)
    text = _keywords().sub(lambda m: m.group(1).lower(), text)
    text = _PARENS.sub(lambda m: f", {m.group(1)}," if m.group(1).strip() else "", text)
    text = re.sub(r"\s+([,.!?:])", r"\1", text)
    text = re.sub(r",+", ",", text)
    text = re.sub(r"[,:]\s*(?=[.!?]|$)", "", text)
    return " ".join(text.split()), had_link


def _sentences(text: str) -> list[Spoken]:
    found = []
    for part in _SENTENCE_END.split(text):
        for idea in _ideas(part):
            idea = idea.strip(" ,")
            if not re.search(r"\w", idea):
                continue
            slow = _SLOW_MARK in idea
            idea = idea.replace(_SLOW_MARK, "")
            idea = idea[0].upper() + idea[1:]
            if idea[-1] not in ".!?":
                idea += "."
            found.append(Spoken(idea, slow))
    return found


def _ideas(sentence: str) -> list[str]:
    """A long sentence cut where a new idea starts."""
    if len(sentence.split()) <= LONG_SENTENCE_WORDS:
        return [sentence]
    parts = _SPLIT_IDEA.split(sentence)
    return parts if all(len(p.split()) >= 3 for p in parts) else [sentence]


def compose(texts: Iterable[str], today: dt.date) -> Speech:
    """Written replies as spoken sentences."""
    sentences: list[Spoken] = []
    had_link = False
    for text in texts:
        spoken, link = _words(text, today)
        had_link = had_link or link
        sentences += _sentences(spoken)
    return Speech(tuple(sentences), had_link)


def seconds(sentences: Iterable[Spoken]) -> float:
    """How long a voice takes to say these sentences, pauses included."""
    total = 0.0
    for sentence in sentences:
        words = len(sentence.text.split())
        total += words / WORDS_PER_SECOND * (SLOW if sentence.slow else 1.0) + PAUSE_SECONDS
    return total


def fit(sentences: Iterable[Spoken], budget: float) -> tuple[tuple[Spoken, ...], bool]:
    """The sentences that fit in `budget` seconds, in order; and whether any were left out."""
    kept: list[Spoken] = []
    left_out = False
    for sentence in sentences:
        if seconds([*kept, sentence]) > budget:
            left_out = True
            break
        kept.append(sentence)
    return tuple(kept), left_out


__all__ = ["MAX_TURN_SECONDS", "Speech", "Spoken", "WEEKDAYS", "compose", "fit", "seconds"]
