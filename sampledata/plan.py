"""How big a synthetic national data set is, and the proportions that shape it.

Full size (scale 1.0) is the issue's national estimate: 15.000 cards, 5.000 employers and
about 500.000 wage reports over three calendar years (the current one up to today). The scale
multiplies the counts only; every proportion stays the same, so 0.1 and 1.0 are alike in
shape and differ in size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import ClassVar
from zoneinfo import ZoneInfo

FULL_CARDS = 15_000
FULL_EMPLOYERS = 5_000
FULL_REPORTS = 500_000
HISTORY_YEARS = 3
MAX_CARDS = 90_000
"""Frikort-IDs have five digits (10000-99999)."""
DK = ZoneInfo("Europe/Copenhagen")


class SyntheticDataError(Exception):
    """The generator refused; nothing was written. `code` is stable for scripts."""

    code: ClassVar[str] = "synthetic_data"


class InvalidPlan(SyntheticDataError):
    code = "synthetic_invalid_plan"


class DatabaseNotEmpty(SyntheticDataError):
    code = "synthetic_database_not_empty"


@dataclass(frozen=True)
class CapFraction:
    """A share of used card-years that end the year between `low` and `high` times the cap."""

    weight: float
    low: float
    high: float


@dataclass(frozen=True)
class Shares:
    """The proportions behind the data. Invented, but chosen after the evaluations: only
    about a third to a half of cards are used in a year, most earn far below the cap, and a
    few reach the warning levels (80 %, 95 %) or cross the cap."""

    card_year_used: float = 0.5
    linked: float = 0.25
    """Card holders whose phone is linked to their card (they can write SALDO)."""
    deactivated: float = 0.06
    unverified_employers: float = 0.04
    extra_employments: tuple[float, float, float] = (0.5, 0.35, 0.15)
    """Chance of 0, 1 or 2 employments besides the first."""
    local_employer: float = 0.8
    """Chance that an employment is with an employer of the card holder's municipality."""
    cap_fractions: tuple[CapFraction, ...] = (
        CapFraction(0.60, 0.02, 0.50),
        CapFraction(0.24, 0.50, 0.80),
        CapFraction(0.09, 0.80, 0.95),
        CapFraction(0.05, 0.95, 1.00),
        CapFraction(0.02, 1.00, 1.15),
    )
    post_direct: float = 0.55
    """Reports posted at once; the rest are reserved and then mostly confirmed."""
    voided: float = 0.03
    expired: float = 0.02
    reversed: float = 0.02
    channels: tuple[tuple[str, float], ...] = (("api", 0.6), ("sms", 0.3), ("telegram", 0.1))
    messages_per_month: float = 1.5
    """Inbound messages per linked card holder and month, over the last year."""
    escalation_per_message: float = 1 / 60
    rejected_per_card: float = 0.08
    waiting_applications_per_card: float = 0.004


@dataclass(frozen=True)
class Plan:
    """Counts and the clock of one data set. Build it with `plan_for_scale`."""

    scale: float
    seed: int
    now: dt.datetime
    cards: int
    employers: int
    reports: int
    years: tuple[int, ...]
    shares: Shares = field(default_factory=Shares)

    @property
    def today(self) -> dt.date:
        """Today in Denmark, as the ledger counts days."""
        return self.now.astimezone(DK).date()


def plan_for_scale(
    scale: float, *, now: dt.datetime, seed: int = 1, shares: Shares | None = None,
) -> Plan:
    """The plan at `scale` times the national size, ending at `now` (aware)."""
    if now.tzinfo is None:
        raise InvalidPlan("now must be an aware datetime")
    if not 0 < scale <= MAX_CARDS / FULL_CARDS:
        raise InvalidPlan(f"scale must be above 0 and at most {MAX_CARDS / FULL_CARDS:g}")
    cards = max(1, round(FULL_CARDS * scale))
    employers = max(1, round(FULL_EMPLOYERS * scale))
    reports = max(1, round(FULL_REPORTS * scale))
    today = now.astimezone(DK).date()
    years = tuple(range(today.year - HISTORY_YEARS + 1, today.year + 1))
    return Plan(scale=scale, seed=seed, now=now.astimezone(dt.UTC), cards=cards,
                employers=employers, reports=reports, years=years, shares=shares or Shares())
