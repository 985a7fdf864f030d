"""Danish text normalisation for the classifier: people text without æøå, in any case, with typos.

"Hvor meget må jeg tjene?", "hvor meget maa jeg tjene" and "HVOR MEGET MÅ JEG TJENE" must look the
same to the model, and "600 kr" must look like "450 kr" (the amount is an entity, not a feature).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["fold_danish", "fold_for_matching", "normalize", "number_shape"]

# Folding æøå to their two-letter spellings makes both ways of writing identical ("both ways"
# folding: the ASCII spelling is the canonical one, so "maa" and "må" meet at "maa").
_DANISH_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue"})
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_REPEATS = re.compile(r"([^\d\s])\1{2,}")  # "hejjjj" → "hejj", "takkkk" → "takk"
# Sentence punctuation carries no intent; "?" and "!" do, and so do emoji (👋, 🙏), so those stay.
# A dot or comma inside a number is part of its shape ("0.000,00") and stays too.
_PUNCT = re.compile(r"[;:\"'()\[\]{}*<>=~^`|\\&…_]|(?<!\d)[.,]|[.,](?!\d)")
_SPACES = re.compile(r"\s+")
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")
_MAX_SHAPE = 10


def fold_danish(text: str) -> str:
    """Lowercase, fold æ/ø/å to ae/oe/aa and strip other accents (é → e)."""
    folded = text.lower().translate(_DANISH_FOLD)
    if folded.isascii():  # the usual case: nothing left to decompose
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=4096)
def fold_for_matching(text: str) -> str:
    """The loosest form, for matching keywords and phrases rather than for the classifier.

    On top of `fold_danish`, the ASCII spellings people use for æ, ø and å meet the single
    letters they also type instead ("fortidspension", "foertidspension" and "førtidspension"
    all become "fortidspension"), full-width and compatibility characters count as the plain
    ones, and only letters and digits remain, one space apart. Cached: the dialogue folds the
    same message and the same phrases many times a turn.
    """
    text = fold_danish(unicodedata.normalize("NFKC", text))
    text = _NOT_A_WORD.sub(" ", text)
    text = text.replace("ae", "a").replace("oe", "o").replace("aa", "a")
    return " ".join(text.split())


def number_shape(number: str) -> str:
    """Replace a number by its shape ("48213" → "00000", "1.250,50" → "0.000,00")."""
    return re.sub(r"\d", "0", number[: _MAX_SHAPE + 4])


def normalize(text: str) -> str:
    """The classifier's view of a message: folded, numbers as shapes, punctuation squeezed."""
    text = fold_danish(text)
    text = _NUMBER.sub(lambda m: f" {number_shape(m.group())} ", text)
    text = _REPEATS.sub(r"\1\1", text)
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()
