"""Working time → hours as a decimal string: "4 timer", "2,5 t", "halvanden time", "30 min"."""

from __future__ import annotations

import re
from decimal import Decimal

from nlu.entities.base import PRIORITY_UNIT, Candidate
from nlu.entities.numbers import DIGITS, WORDS, format_hours, parse_digits, parse_words

__all__ = ["find_hours"]

_NOT_LETTER = r"(?![^\W\d_])"
_NUMBER = rf"(?:(?P<digits>{DIGITS})|(?P<words>{WORDS}))"
_HOUR_UNIT = rf"\s*-?\s*(?:timer|timers|time|timr|timmer|tim|hours|hour|hrs|t\.?|h){_NOT_LETTER}"
_MINUTES = rf"(?:\s*(?:og\s*)?(?P<minutes>\d{{1,2}})\s*(?:minutter|minut|min\.?|m){_NOT_LETTER})?"
_HOURS = re.compile(rf"{_NUMBER}(?P<unit>{_HOUR_UNIT}){_MINUTES}", re.IGNORECASE)
_ONLY_MINUTES = re.compile(
    rf"(?<![\d,.])(?P<minutes>\d{{1,3}})\s*(?:minutter|minut|min\.?){_NOT_LETTER}", re.IGNORECASE
)
_HALF_FRACTION = re.compile(
    rf"(?<![\d/])(?:(?P<whole>\d+)\s*(?:og\s*)?)?1/2(?P<unit>{_HOUR_UNIT})", re.IGNORECASE
)
_AND_A_HALF = re.compile(
    rf"(?<![\d,.])(?P<whole>\d+)\s+og\s+en\s+halv(?P<unit>{_HOUR_UNIT})", re.IGNORECASE
)
"""'8 og en halv time': 8.5 (without this, "en halv time" alone was read: 0.5)."""
_QUARTERS = re.compile(rf"{_NUMBER}\s*kvarter(?:er)?{_NOT_LETTER}", re.IGNORECASE)
# "225-timers-reglen", "225 timer reglen": a rule's name, not hours worked.
_RULE_NAME = re.compile(r"s?[\s-]*(?:regl|regel|krav|rule)", re.IGNORECASE)
_SIXTY = Decimal(60)


def _number(match: re.Match[str]) -> Decimal | None:
    if match.group("digits"):
        return parse_digits(match.group("digits"))
    return parse_words(match.group("words"))


def _candidate(start: int, end: int, value: Decimal | None) -> Candidate | None:
    if value is None or value <= 0:
        return None
    return Candidate(
        "hours", format_hours(value.quantize(Decimal("0.01"))), start, end, PRIORITY_UNIT
    )


def find_hours(text: str) -> list[Candidate]:
    """Every plausible amount of working time in `text`, as candidates for the resolver."""
    found: list[Candidate | None] = []
    for match in _HOURS.finditer(text):
        if _RULE_NAME.match(text, match.end("unit")):
            continue
        value = _number(match)
        if value is not None and match.group("minutes"):
            value += Decimal(match.group("minutes")) / _SIXTY
        found.append(_candidate(match.start(), match.end(), value))
    for match in _ONLY_MINUTES.finditer(text):
        found.append(
            _candidate(match.start(), match.end(), Decimal(match.group("minutes")) / _SIXTY)
        )
    for match in (*_HALF_FRACTION.finditer(text), *_AND_A_HALF.finditer(text)):
        value = Decimal(match.group("whole") or 0) + Decimal("0.5")
        found.append(_candidate(match.start(), match.end(), value))
    for match in _QUARTERS.finditer(text):
        value = _number(match)
        found.append(_candidate(match.start(), match.end(), value and value / 4))
    return [c for c in found if c is not None]
