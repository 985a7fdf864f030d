"""Typed commands: the only way to ask the ledger to change something. Each names the result
its handler gives back (`ledger/handlers.py` maps each to its handler)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field, field_validator

from db.commands import Command
from ledger.results import (
    CapResult,
    CardResult,
    EmployerResult,
    EmploymentResult,
    WageReportResult,
)


class SetCap(Command[CapResult]):
    year: int = Field(ge=2019, le=2100)
    amount_ore: int = Field(gt=0)
    source: str = Field(min_length=3, max_length=2000)
    is_demo: bool = False


class RegisterEmployer(Command[EmployerResult]):
    cvr: str
    name: str = Field(min_length=1, max_length=200)
    """Trimmed; a name of only spaces is refused (it would be stored empty)."""
    phone: str | None = None
    telegram_id: str | None = None
    contact_person: str = Field(default="", max_length=200)

    @field_validator("name")
    @classmethod
    def _trimmed(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("an employer needs a name")
        return name.strip()


class VerifyEmployer(Command[EmployerResult]):
    cvr: str


class IssueCard(Command[CardResult]):
    cpr: str
    name: str = Field(min_length=1, max_length=200)
    municipality_code: str
    valid_from: dt.date
    phone: str | None = None
    telegram_id: str | None = None
    number: str | None = Field(default=None, pattern=r"^\d{5}$")
    """An existing Frikort-ID (an import or the demo data); a fresh random one otherwise."""


class DeactivateCard(Command[CardResult]):
    number: str
    reason: str = Field(min_length=1, max_length=2000)
    effective_on: dt.date | None = None
    """The decision date: today (the default). A deactivation takes effect from the day it
    is decided, so a past date (backdating) and a future date are both refused."""


class ReactivateCard(Command[CardResult]):
    number: str
    reason: str = Field(min_length=1, max_length=2000)


class TransferCard(Command[CardResult]):
    number: str
    municipality_code: str


class RecordControl(Command[CardResult]):
    number: str
    controlled_on: dt.date | None = None


class CreateEmployment(Command[EmploymentResult]):
    employer_cvr: str
    card_number: str
    start_date: dt.date
    end_date: dt.date | None = None
    weekly_hours: Decimal = Field(ge=0, le=168, decimal_places=2)


class ReportWage(Command[WageReportResult]):
    employer_cvr: str
    card_number: str
    paid_on: dt.date
    hours: Decimal = Field(ge=0, le=10_000, decimal_places=2)
    amount_ore: int
    idempotency_key: str = Field(min_length=1, max_length=200)
    post: bool = False
    work_from: dt.date | None = None
    work_to: dt.date | None = None
    source_message_id: str | None = Field(default=None, max_length=128)


class PostReport(Command[WageReportResult]):
    report_id: int


class ExpireIfDue(Command[WageReportResult]):
    """Write the expiry of a report's reservation now if its time is up, instead of waiting
    for the periodic sweep (the dialogue asks when the employer writes again)."""

    report_id: int


class VoidReport(Command[WageReportResult]):
    report_id: int
    reason: str = Field(default="", max_length=2000)


class ReverseReport(Command[WageReportResult]):
    report_id: int
    reason: str = Field(min_length=1, max_length=2000)
