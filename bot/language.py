"""Messages written in English: the assistant answers in Danish, and says so in English when
it did not understand, so the writer knows a person can help."""

from __future__ import annotations

import re

_ENGLISH = frozenset(
    "i you he she we they my your his her our the a an is are am was do does did can could "
    "will would should have has had how what when where why who which please help english "
    "speak understand work job money card earn lose get give want need not no yes and or "
    "if for with from to of in on at this that it me him them there here about dont danish "
    "well speak chat see".split())
_WORD = re.compile(r"[a-zæøå']+")
_MIN_WORDS = 3
_SHARE = 0.6


def looks_english(text: str) -> bool:
    """Most of the words of a message of a few words or more are common English words."""
    words = _WORD.findall(text.lower())
    if len(words) < _MIN_WORDS:
        return False
    return sum(word in _ENGLISH for word in words) / len(words) >= _SHARE
