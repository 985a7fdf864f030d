"""The questions in one message, when it asks more than one ("hvor meget må jeg tjene, og
mister jeg min boligstøtte?"): each is answered, not only the one the whole message scores
highest for."""

from __future__ import annotations

import re

from bot.textmatch import fold

MAX_QUESTIONS = 3
"""A message with more questions than this is a story: the first ones are answered."""
_MIN_WORDS = 3
_SENTENCES = re.compile(r"(?<=[?!.])\s+|\n+")
_CLAUSES = re.compile(r"(?<=[?!.])\s+|\n+|[,;:]\s+")
_WH = r"hvad|hva|hvor|hvordan|hvornar|hvorfor|hvem|hvilke\w*"
_VERBS = r"ma|kan|skal|mister|far|bliver|galder|taller|vil|betaler|trakker|er|har"
_SUBJECTS = (r"jeg|du|man|han|hun|vi|i|de|det|der|den|kortet|frikortet|timerne|lonnen|"
             r"pengene|feriepenge\w*|min|mit|mine|hans|hendes")
_JOINED = re.compile(rf"\s*,?\s+(?:og|eller|men|samt|\+|&)\s+(?=(?:sa\s+)?(?:{_WH}|{_VERBS})\b)"
                     rf"|\s*,\s+(?=(?:{_WH}|{_VERBS})\b)")
_ASKS = re.compile(rf"^(?:og\s+|sa\s+)?(?:(?:{_WH})\b|(?:{_VERBS})\s+(?:{_SUBJECTS})\b)")
"""A question's opening: a question word, or a verb before its subject ("mister jeg")."""


def asks_a_question(text: str) -> bool:
    """Whether any clause of `text` is a question ("vi gav jens 500 fra tipskassen, skal de
    indberettes"): figures told beside a question are its subject, not a report."""
    return any(_ASKS.match(part.strip())
               for clause in _CLAUSES.split(text) if (folded := fold(clause))
               for part in _JOINED.split(folded))


def questions_in(text: str) -> list[str]:
    """The question clauses of `text` when there are two or more; otherwise an empty list
    (a message with one question is answered as a whole, as before). Someone who uses "?"
    marks their questions with it: then only sentences ending in "?" (and the last one) are
    read for them."""
    marked = "?" in text
    sentences = [s for s in _SENTENCES.split(text) if s.strip()]
    found: list[str] = []
    for index, sentence in enumerate(sentences):
        folded = fold(sentence)
        last = index == len(sentences) - 1  # the last question's "?" is often left out
        if not folded or (marked and not last and not sentence.rstrip().endswith("?")):
            continue
        for part in _JOINED.split(folded):
            part = part.strip()
            if len(part.split()) >= _MIN_WORDS and _ASKS.match(part):
                found.append(part)
    return found[:MAX_QUESTIONS] if len(found) >= 2 else []


TAIL_MIN_WORDS = 5
"""A shorter last question ("hvad skal jeg gøre") needs the story before it to mean anything."""


def last_question(text: str) -> str | None:
    """The question a story ends with ("... ryggen er helt død haha, men hvor meget har jeg
    egentlig tjent indtil nu"), when the message has more than one clause and its last question
    says enough on its own."""
    parts = [part.strip() for clause in _CLAUSES.split(text) if (folded := fold(clause))
             for part in _JOINED.split(folded) if part.strip()]
    if len(parts) < 2:
        return None
    asked = [part for part in parts if _ASKS.match(part)]
    if not asked or len(asked[-1].split()) < TAIL_MIN_WORDS:
        return None
    return asked[-1]
