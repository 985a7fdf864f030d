"""HTTP shapes. Kroner travel as decimal strings ("1250.50") and become øre here, nowhere else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StrictBool

from danish.money import MoneyFormatError, format_kroner, parse_kroner
from ledger import Balance, CapResult, CardResult, EmploymentResult, WageReportResult


def _to_ore(text: str) -> int:
    try:
        return parse_kroner(text)
    except MoneyFormatError as exc:
        raise ValueError("amount must be kroner with at most two decimals, e.g. \"1250.50\"") from exc


def _positive(ore: int) -> int:
    if ore <= 0:
        raise ValueError("amount must be more than 0")
    return ore


KronerIn = Annotated[str, Field(examples=["1250.50"], max_length=20), AfterValidator(_to_ore)]
"""Accepted as a string, validated, and handed on as integer øre."""


def ore(amount: str | int) -> int:
    """A validated `KronerIn` field's value: typed as the string it arrives as, it holds the
    integer øre `_to_ore` made of it."""
    if not isinstance(amount, int):
        raise TypeError("a KronerIn amount is read only after validation")
    return amount
KronerOut = Annotated[int, PlainSerializer(format_kroner, return_type=str)]
Hours = Annotated[Decimal, Field(ge=0, le=10_000, decimal_places=2, examples=["4", "2.5"])]
WeeklyHours = Annotated[Decimal, Field(ge=0, le=168, decimal_places=2, examples=["4", "2.5"])]
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
"""A database id in a path: larger ids cannot exist (64-bit keys) and would not reach the ledger."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CapIn(Body):
    amount: Annotated[KronerIn, AfterValidator(_positive)]
    source: str = Field(min_length=3, max_length=2000)
    is_demo: StrictBool = False


class CapOut(BaseModel):
    year: int
    amount: KronerOut
    source: str
    is_demo: bool
    reports_released: int

    @classmethod
    def of(cls, result: CapResult) -> CapOut:
        return cls(year=result.year, amount=result.amount_ore, source=result.source,
                   is_demo=result.is_demo, reports_released=result.reports_released)


class EmployerIn(Body):
    cvr: str = Field(max_length=20)
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    telegram_id: str | None = Field(default=None, max_length=32, pattern=r"^\d+$")
    contact_person: str = Field(default="", max_length=200)


class CardIn(Body):
    cpr: str = Field(max_length=20, description="Never returned by any endpoint.")
    name: str = Field(min_length=1, max_length=200)
    municipality_code: str = Field(pattern=r"^\d{3}$")
    phone: str | None = Field(default=None, max_length=30)
    telegram_id: str | None = Field(default=None, max_length=32, pattern=r"^\d+$")
    valid_from: dt.date
    number: str | None = Field(default=None, pattern=r"^\d{5}$",
                               description="An existing Frikort-ID to import; random if absent.")


class CardOut(BaseModel):
    number: str
    status: str
    valid_from: dt.date
    issued_on: dt.date
    municipality_code: str
    last_control_on: dt.date | None
    next_control_due: dt.date
    link_code: str | None = Field(
        default=None, description="Only when the card is issued: the code for the grant letter.")

    @classmethod
    def of(cls, result: CardResult) -> CardOut:
        return cls(**result.model_dump(exclude={"holder_name"}))


class ReasonIn(Body):
    reason: str = Field(min_length=1, max_length=2000)


class TransferIn(Body):
    municipality_code: str = Field(pattern=r"^\d{3}$")


class EmploymentIn(Body):
    employer_cvr: str = Field(max_length=20)
    card_number: str = Field(pattern=r"^\d{5}$")
    start_date: dt.date
    end_date: dt.date | None = None
    weekly_hours: WeeklyHours


class EmploymentOut(BaseModel):
    id: int
    employer_cvr: str
    card_number: str
    start_date: dt.date
    end_date: dt.date | None
    weekly_hours: str
    contract_required: bool

    @classmethod
    def of(cls, result: EmploymentResult) -> EmploymentOut:
        data = result.model_dump()
        data["weekly_hours"] = str(result.weekly_hours.normalize())
        return cls(**data)


class WageReportIn(Body):
    employer_cvr: str = Field(max_length=20)
    card_number: str = Field(pattern=r"^\d{5}$")
    paid_on: dt.date
    hours: Hours
    amount: KronerIn
    post: StrictBool = False
    work_from: dt.date | None = None
    work_to: dt.date | None = None


class BalanceOut(BaseModel):
    card_number: str
    year: int
    cap: KronerOut | None
    cap_is_demo: bool
    posted: KronerOut
    pending: KronerOut
    remaining: KronerOut | None
    over_cap: KronerOut
    awaiting_cap: KronerOut

    @classmethod
    def of(cls, balance: Balance) -> BalanceOut:
        return cls(card_number=balance.card_number, year=balance.year, cap=balance.cap_ore,
                   cap_is_demo=balance.cap_is_demo, posted=balance.posted_ore,
                   pending=balance.pending_ore, remaining=balance.remaining_ore,
                   over_cap=balance.over_cap_ore, awaiting_cap=balance.awaiting_cap_ore)


class WageReportOut(BaseModel):
    id: int
    status: str
    employer_cvr: str
    card_number: str
    paid_on: dt.date
    hours: str
    amount: KronerOut
    counted_amount: KronerOut
    over_cap_amount: KronerOut
    expires_at: dt.datetime | None
    pending_reason: str | None
    warnings: list[int]
    remaining: KronerOut | None = Field(description=(
        "Left under the year's cap after this report (null while no cap is loaded): "
        "the figure the employer card check shows."))
    balance: BalanceOut | None = Field(description=(
        "The card's whole balance; null for an employer key, which sees `remaining` only."))

    @classmethod
    def of(cls, result: WageReportResult, *, with_balance: bool = True) -> WageReportOut:
        return cls(
            id=result.id, status=result.status, employer_cvr=result.employer_cvr,
            card_number=result.card_number, paid_on=result.paid_on,
            hours=str(result.hours.normalize()), amount=result.amount_ore,
            counted_amount=result.counted_ore, over_cap_amount=result.over_cap_ore,
            expires_at=result.expires_at, pending_reason=result.pending_reason,
            warnings=list(result.warnings), remaining=result.balance.remaining_ore,
            balance=BalanceOut.of(result.balance) if with_balance else None,
        )


class CardCheckOut(BaseModel):
    """What an employer may know about a card: the card check of the SMS dialogue."""

    card_number: str
    active: bool
    year: int
    remaining: KronerOut | None
    """Room left under the year's cap; null while the card is inactive or no cap is loaded."""
    cap_is_demo: bool


class UsageRowOut(BaseModel):
    municipality_code: str
    municipality_name: str
    cards_granted: int
    cards_used: int
    share_used: float


class UsageOut(BaseModel):
    year: int
    cards_granted: int
    cards_used: int
    municipalities: list[UsageRowOut]


ExportFormat = Literal["csv", "json"]
