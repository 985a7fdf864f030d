"""Pure rules of the scheme, on integers and dates: no storage, so they can be tested by the thousand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

WARNING_THRESHOLDS_PERCENT = (80, 95, 100)
"""The balance levels at which card holder and employer are warned (issue: 80 % and 95 %)."""

CONTRACT_WEEKLY_HOURS_THRESHOLD = Decimal(3)
"""Ansættelsesbevisloven (in force 1 July 2023): a contract is needed above 3 hours a week on
average over 4 weeks. The 8-hour rule on some municipal pages is outdated (rules-facts § 6)."""

CONTROL_INTERVAL_YEARS = 2
"""§ 3 stk. 1: control at least every second calendar year, none in the year of issue."""


@dataclass(frozen=True)
class Split:
    """How much of a payment the frikort covers and how much lies above the cap."""

    counted: int
    over_cap: int


def split_against_cap(amount: int, used: int, cap: int) -> Split:
    """Counts what fits under the cap; the rest is recorded as not covered by the frikort.

    `used` is posted plus pending for the card and year. Over-cap is a result, not an
    error: the employer has paid it, and the card holder and employer must be told.
    """
    if amount <= 0:
        raise ValueError("amount must be positive")
    room = max(cap - used, 0)
    counted = min(amount, room)
    return Split(counted=counted, over_cap=amount - counted)


def crossed_warnings(used_before: int, used_after: int, cap: int) -> tuple[int, ...]:
    """The warning thresholds (in percent) that this change crossed upwards."""
    if cap <= 0:
        return ()
    return tuple(
        level
        for level in WARNING_THRESHOLDS_PERCENT
        if used_before * 100 < level * cap <= used_after * 100
    )


def current_warning(used: int, cap: int | None) -> int | None:
    """The highest threshold the balance has reached, for showing a gentle warning."""
    if not cap:
        return None
    reached = [level for level in WARNING_THRESHOLDS_PERCENT if used * 100 >= level * cap]
    return max(reached) if reached else None


def contract_required(weekly_hours: Decimal) -> bool:
    """Whether the employer must give an ansættelsesbevis for this agreed working time."""
    return weekly_hours > CONTRACT_WEEKLY_HOURS_THRESHOLD


def next_control_due(issued_on: dt.date, last_control_on: dt.date | None) -> dt.date:
    """The last day by which the municipality must have controlled the card.

    Our reading of § 3 stk. 1: counting from the year of issue or of the latest control,
    the next control falls at the latest in the second calendar year after it.
    """
    base = last_control_on or issued_on
    return dt.date(base.year + CONTROL_INTERVAL_YEARS, 12, 31)


def hours_plausible(hours: Decimal, work_from: dt.date, work_to: dt.date, per_day: int) -> bool:
    """No more than `per_day` hours for each calendar day the work period covers."""
    days = (work_to - work_from).days + 1
    return Decimal(0) <= hours <= Decimal(per_day * days)
