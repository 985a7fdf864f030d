"""Typed results returned by the service layer: plain values, never ORM rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

ReportStatus = Literal["awaiting_cap", "pending", "posted", "voided", "expired", "reversed"]
CardStatus = Literal["active", "deactivated"]
CARD_STATUSES: tuple[CardStatus, ...] = get_args(CardStatus)

AWAITING_CAP_REASON = "beløbsgrænse for året er ikke indlæst"


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class Balance(Result):
    card_number: str
    year: int
    cap_ore: int | None
    cap_is_demo: bool
    posted_ore: int
    pending_ore: int
    over_cap_ore: int
    awaiting_cap_ore: int
    """Reported for a year whose cap is not loaded yet: stored, not yet counted."""

    @property
    def remaining_ore(self) -> int | None:
        if self.cap_ore is None:
            return None
        return max(self.cap_ore - self.posted_ore - self.pending_ore, 0)

    @property
    def used_ore(self) -> int:
        return self.posted_ore + self.pending_ore


class CapResult(Result):
    year: int
    amount_ore: int
    source: str
    is_demo: bool
    reports_released: int = 0
    """Reports that were waiting for this year's cap and were counted when it was set."""
    set_by: str | None = None
    """The actor who set this figure (`Ledger.caps` only), for the console's cap table."""
    set_at: dt.datetime | None = None


class EmployerResult(Result):
    cvr: str
    name: str
    verified: bool
    contact_person: str


class CardResult(Result):
    number: str
    status: CardStatus
    valid_from: dt.date
    issued_on: dt.date
    municipality_code: str
    last_control_on: dt.date | None
    next_control_due: dt.date
    holder_name: str
    link_code: str | None = None
    """The personal code for the grant letter; only in the result of issuing (never stored in clear)."""


class EmploymentResult(Result):
    id: int
    employer_cvr: str
    card_number: str
    start_date: dt.date
    end_date: dt.date | None
    weekly_hours: Decimal
    contract_required: bool


class WageReportResult(Result):
    id: int
    status: ReportStatus
    employer_cvr: str
    card_number: str
    paid_on: dt.date
    hours: Decimal
    amount_ore: int
    counted_ore: int
    over_cap_ore: int
    expires_at: dt.datetime | None
    pending_reason: str | None
    warnings: tuple[int, ...]
    """Cap warning levels (percent) this report crossed: 80, 95 or 100."""
    balance: Balance
    replayed: bool = False
