"""What every extractor returns: a span with a normalised value and a priority for overlaps."""

from __future__ import annotations

from dataclasses import dataclass

EXTRACTOR = "rule_based"
"""The `extractor` field of our entities, so logs tell them apart from Rasa's DIET entities."""

# Lower number wins when two candidates overlap. Identity numbers are the most specific shapes;
# a number with an explicit unit ("600 kr", "4 timer") beats a bare number that might be a date.
PRIORITY_ID = 0
PRIORITY_UNIT = 1
PRIORITY_DATE = 2
PRIORITY_WEAK_DATE = 3
PRIORITY_CONTEXT = 4
PRIORITY_BARE = 5


@dataclass(frozen=True)
class Candidate:
    entity: str
    value: str
    start: int
    end: int
    priority: int

    def overlaps(self, other: Candidate) -> bool:
        return self.start < other.end and other.start < self.end
