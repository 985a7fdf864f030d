"""How easy a Danish text is to read: LIX, and the jargon a reader may not know.

LIX (Björnsson's läsbarhetsindex, used for Danish too) = words per sentence + the percentage of
long words (more than six letters). Below 30 is easy (children's books, simple news), 40 is
ordinary newspaper prose, above 50 is official language. Card holders often read with
difficulty, so their answers aim at 30 or below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

__all__ = ["Jargon", "jargon", "lix", "sentences", "unexplained_jargon", "words"]

# Abbreviations whose full stop does not end a sentence ("42.766 kr. i 2026").
_ABBREVIATIONS = ("kr", "fx", "nr", "ca", "dvs", "bl.a", "pkt", "stk", "jf", "osv", "mv", "m.v")
_WORD = re.compile(r"[0-9A-Za-zÆØÅæøåÉéÜüÄäÖö]+(?:[-'][0-9A-Za-zÆØÅæøåÉéÜüÄäÖö]+)*")
_LETTER = re.compile(r"[A-Za-zÆØÅæøåÉéÜüÄäÖö]")
_SENTENCE_END = re.compile(r"[.!?:]+(?=\s|$)")


def words(text: str) -> list[str]:
    """The words, numbers included ("42.766" is one word, with no letters, so never long)."""
    return _WORD.findall(re.sub(r"(?<=\d)[.,](?=\d)", "", text))


def sentences(text: str) -> list[str]:
    """The text split at full stops, question and exclamation marks and colons, except after an
    abbreviation such as "kr." or "fx" and inside numbers ("42.766", "12,5")."""
    guarded = text
    for short in _ABBREVIATIONS:
        guarded = re.sub(rf"(?<![A-Za-zæøå]){re.escape(short)}\.(?=\s+[a-zæøå0-9])",
                         short.replace(".", "") + "\u2024", guarded, flags=re.IGNORECASE)
    parts = [p.strip() for p in _SENTENCE_END.split(guarded)]
    return [p.replace("\u2024", ".") for p in parts if words(p)]


def lix(text: str) -> float:
    """LIX of `text`; 0 for a text without words."""
    found = words(text)
    if not found:
        return 0.0
    long = sum(1 for w in found if len(_LETTER.findall(w)) > 6)
    return len(found) / max(len(sentences(text)), 1) + 100 * long / len(found)


@dataclass(frozen=True)
class Jargon:
    word: str
    """A word (or the start of one: "forsørgelsesydelse" also covers "...ydelser")."""
    explained_by: tuple[str, ...]
    """Words that, in the same sentence, explain it; with none, the word must go."""
    plain: str
    """What to write instead."""
    citizens_only: bool = False
    """Fine in an answer for employers (they know eIndkomst and overenskomster)."""


@cache
def jargon() -> tuple[Jargon, ...]:
    raw = resources.files("bot").joinpath("data/jargon.da.yml").read_text("utf-8")
    return tuple(
        Jargon(word=str(item["word"]).lower(),
               explained_by=tuple(str(e).lower() for e in item.get("explained_by") or ()),
               plain=str(item["plain"]), citizens_only=bool(item.get("citizens_only")))
        for item in yaml.safe_load(raw))


def unexplained_jargon(text: str, *, for_employers: bool = False) -> list[str]:
    """The jargon words in `text` used in a sentence that does not also explain them."""
    found = []
    for sentence in sentences(text):
        lowered = sentence.lower()
        sentence_words = [w.lower() for w in words(sentence)]
        for entry in jargon():
            if for_employers and entry.citizens_only:
                continue
            if not any(w.startswith(entry.word) for w in sentence_words):
                continue
            if not any(explanation in lowered for explanation in entry.explained_by):
                found.append(entry.word)
    return found
