"""Folding and forgiving phrase matching for Danish as people type it on a phone."""

from __future__ import annotations

import re

from nlu import fold_for_matching

fold = fold_for_matching
"""The one Danish folding for matching words and phrases (it lives in nlu, with the
classifier's own folding, so the two cannot drift apart)."""


def _within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        # Two neighbouring letters swapped ("selvmrod") is the commonest phone typo: one edit.
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] \
                and a[diff[1]] == b[diff[0]]:
            return True
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] != b[j]:
            edits += 1
            if edits > 1:
                return False
            if len(a) == len(b):
                i += 1
            j += 1
            continue
        i += 1
        j += 1
    return edits + (len(b) - j) + (len(a) - i) <= 1


def _word_matches(pattern: str, word: str) -> bool:
    # Short words must match exactly: "dø" and "do" are one edit apart but mean different things.
    if len(pattern) <= 4:
        return pattern == word
    return _within_one_edit(pattern, word)


def contains_phrase(folded_text: str, folded_phrase: str) -> bool:
    """True when the phrase's words occur in order and adjacent, each allowing one typo."""
    return contains_words(folded_text.split(), tuple(folded_phrase.split()))


def contains_words(words: list[str], target: tuple[str, ...]) -> bool:
    """`contains_phrase` on text and phrase already split into words, for callers that try
    many phrases on one message (the crisis lists run on every message)."""
    if not target:
        return False
    first, rest = target[0], target[1:]
    for start in range(len(words) - len(target) + 1):
        # The first word alone rules out nearly every position: test it before the rest.
        if _word_matches(first, words[start]) and all(
                _word_matches(p, w) for p, w in zip(rest, words[start + 1:], strict=False)):
            return True
    return False


QUESTION_WORDS = frozenset(
    "hvad hvor hvordan hvorfor hvem hvornar hvilken hvilke hvilket hva ma kan skal er gaelder "
    "galder taller bliver far what how can may".split())


_ASKS_WHY = re.compile(r"\b(hvorfor|"
                       r"hvad (skal|vil) (i|du|de|kommunen) (bruge|med) (det|den|\w+) ?(til)?|"
                       r"hvad bruger (i|du|de|kommunen) (det|den) til|"
                       r"hvem (ser|far|kan se) (det|den))\b")
"""Asking why a flow wants what it asks for ("hvad skal I bruge det til"), on folded text."""


def asks_why(text: str) -> bool:
    """A question (starting with a question word) about why something is asked."""
    folded = fold(text)
    words = folded.split()
    return bool(words) and words[0] in QUESTION_WORDS and _ASKS_WHY.search(folded) is not None


_LEAD_INS = frozenset("vent ok okay og men hov na nå hey hej ps sa så lige nej ja".split())
"""Words a question may open with before its question word ("vent, skal der betales ATP")."""


def looks_like_question(text: str) -> bool:
    """A question ("?", or a question word starting a clause: "jeg flytter, hvad sker der")
    rather than an answer or an instruction."""
    if "?" in text:
        return True
    return any(opens_as_question(clause) for clause in re.split(r"[,.;:!\n]", text))


def opens_as_question(clause: str, *, min_words: int = 1) -> bool:
    """The clause starts with a question word, after any lead-ins ("vent skal der betales
    atp", "og hvad med feriepenge"), and has at least `min_words` words from there."""
    words = fold(clause).split()
    while words[:1] and words[0] in _LEAD_INS and len(words) > 1:
        words = words[1:]
    return len(words) >= min_words and bool(words) and words[0] in QUESTION_WORDS
