"""A report's state is derived from its entries, so it can never disagree with the ledger."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Row, bindparam, select
from sqlalchemy.orm import Session

from db.base import table_of
from db.tables import Card, Employer, LedgerEntry, WageReport
from ledger.errors import ReportNotFound
from ledger.results import AWAITING_CAP_REASON, Balance, ReportStatus, WageReportResult
from ledger.service.balances import ReportRef

_ENTRIES = table_of(LedgerEntry)
_REPORTS = table_of(WageReport)
_CARDS = table_of(Card)
_EMPLOYERS = table_of(Employer)


@dataclass(frozen=True)
class ReportState:
    status: ReportStatus
    counted: int
    over_cap: int
    confirmed: bool
    reserved_at: dt.datetime | None = None
    """When the report's room under the cap was reserved (its `reserve` entry), if it was."""


_STATUS_BY_KIND: tuple[tuple[str, ReportStatus], ...] = (
    ("reverse", "reversed"),
    ("void", "voided"),
    ("expire", "expired"),
    ("post", "posted"),
    ("post_direct", "posted"),
    ("reserve", "pending"),
)


def status_from_kinds(kinds: set[str]) -> ReportStatus:
    """Later steps win: a reversal ends a posted report, a void or expiry ends a pending one."""
    for kind, status in _STATUS_BY_KIND:
        if kind in kinds:
            return status
    return "awaiting_cap"


_STATE = select(_ENTRIES.c.kind, _ENTRIES.c.counted_ore, _ENTRIES.c.over_cap_ore,
                _ENTRIES.c.created_at).where(
    _ENTRIES.c.report_id == bindparam("p_report_id", type_=BigInteger))


def report_state(session: Session, report_id: int) -> ReportState:
    rows = session.connection().execute(_STATE, {"p_report_id": report_id}).all()
    kinds = {row[0] for row in rows}
    split = next((row for row in rows if row[0] in ("reserve", "post_direct")), None)
    reserved_at = next((row[3] for row in rows if row[0] == "reserve"), None)
    return ReportState(
        status=status_from_kinds(kinds),
        counted=int(split[1]) if split else 0,
        over_cap=int(split[2]) if split else 0,
        confirmed="confirm" in kinds,
        reserved_at=reserved_at,
    )


@dataclass(frozen=True)
class ReportFacts:
    """The immutable wage report, with the public identifiers of its card and employer."""

    id: int
    employer_id: int
    card_id: int
    year: int
    paid_on: dt.date
    hours_centi: int
    amount_ore: int
    post_on_create: bool
    expires_at: dt.datetime
    card_number: str
    employer_cvr: str

    @property
    def ref(self) -> ReportRef:
        return ReportRef(self.id, self.card_id, self.year)


_FACTS = (
    select(_REPORTS.c.id, _REPORTS.c.employer_id, _REPORTS.c.card_id, _REPORTS.c.year,
           _REPORTS.c.paid_on, _REPORTS.c.hours_centi, _REPORTS.c.amount_ore,
           _REPORTS.c.post_on_create, _REPORTS.c.expires_at, _CARDS.c.number, _EMPLOYERS.c.cvr)
    .join(_CARDS, _CARDS.c.id == _REPORTS.c.card_id)
    .join(_EMPLOYERS, _EMPLOYERS.c.id == _REPORTS.c.employer_id)
    .where(_REPORTS.c.id == bindparam("p_report_id", type_=BigInteger))
)


def load_report(session: Session, report_id: int) -> ReportFacts:
    """The report with its card number and employer CVR (one query), or ReportNotFound."""
    row = session.connection().execute(_FACTS, {"p_report_id": report_id}).first()
    if row is None:
        raise ReportNotFound(id=report_id)
    return _facts(row)


def _facts(row: Row[Any]) -> ReportFacts:
    return ReportFacts(int(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4], int(row[5]),
                       int(row[6]), bool(row[7]), row[8], row[9], row[10])


def reservation_deadline(expires_at: dt.datetime, reserved_at: dt.datetime | None,
                         ttl_seconds: int) -> dt.datetime:
    """When a reservation stops holding room: never sooner than the TTL after it was made.

    `expires_at` is fixed when the report arrives; a report that waited for the year's cap
    is reserved only when the cap is set, possibly long after, and then still gets the full
    time to be confirmed.
    """
    if reserved_at is None:
        return expires_at
    return max(expires_at, reserved_at + dt.timedelta(seconds=ttl_seconds))


def wage_report_result(
    report: ReportFacts, state: ReportState, balance: Balance, *, ttl_seconds: int,
    warnings: tuple[int, ...] = (),
) -> WageReportResult:
    """The result, from values in hand: no query."""
    return WageReportResult(
        id=report.id,
        status=state.status,
        employer_cvr=report.employer_cvr,
        card_number=report.card_number,
        paid_on=report.paid_on,
        hours=Decimal(report.hours_centi) / 100,
        amount_ore=report.amount_ore,
        counted_ore=state.counted,
        over_cap_ore=state.over_cap,
        expires_at=(reservation_deadline(report.expires_at, state.reserved_at, ttl_seconds)
                    if state.status == "pending" else None),
        pending_reason=AWAITING_CAP_REASON if state.status == "awaiting_cap" else None,
        warnings=warnings,
        balance=balance,
    )


def canonical_request(payload: dict[str, object]) -> str:
    """The request as compared for idempotency: sorted keys, no whitespace, dates as ISO."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
