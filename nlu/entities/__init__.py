"""Rule-based entity extraction: every extractor proposes candidates, one resolver picks spans.

Rules beat learning here: the values must be exact (kroner and øre, ISO dates, valid CVRs) and the
same whichever intent backend runs, so both the embedded model and Rasa use these extractors.
"""

from __future__ import annotations

import datetime as dt

from nlu.entities.amount import find_amounts
from nlu.entities.base import EXTRACTOR, Candidate
from nlu.entities.dates import find_dates
from nlu.entities.hours import find_hours
from nlu.entities.ids import (
    find_card_numbers,
    find_cprs,
    find_cvrs_and_phones,
    is_cpr_like,
    join_spelled_card_numbers,
    redact_cpr,
)
from nlu.entities.numbers import read_number
from nlu.types import Entity

__all__ = ["extract_entities", "is_cpr_like", "join_spelled_card_numbers", "read_number",
           "redact_cpr", "resolve"]


def resolve(candidates: list[Candidate]) -> list[Candidate]:
    """Keep the best non-overlapping candidates: highest priority, then longest, then leftmost."""
    chosen: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.priority, c.start - c.end, c.start)):
        if not any(candidate.overlaps(kept) for kept in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda c: c.start)


def extract_entities(text: str, today: dt.date | None = None) -> list[Entity]:
    """All entities in `text` with normalised values, in text order.

    Args:
        text: the message as received.
        today: the reference day for relative dates ("i går", "mandag"); defaults to today.

    Returns:
        Entities in Rasa's shape ({"entity", "value", "start", "end", "extractor"}).
    """
    today = today or dt.date.today()
    candidates = [
        *find_cprs(text),
        *find_cvrs_and_phones(text),
        *find_amounts(text),
        *find_hours(text),
        *find_dates(text, today),
        *find_card_numbers(text),
    ]
    return [
        Entity(entity=c.entity, value=c.value, start=c.start, end=c.end, extractor=EXTRACTOR)
        for c in resolve(candidates)
    ]
