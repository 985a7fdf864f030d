"""The read side: balances, exports, usage figures and the ledger's own consistency check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from db.config import LedgerConfig
from db.tables import CapVersion, Card, CardBalance, Employer, LedgerEntry, Municipality, WageReport
from ledger.results import CapResult, WageReportResult
from ledger.service.balances import read_balance
from ledger.service.due_reservations import due_reservation_keys
from ledger.service.report_state import (
    load_report,
    report_state,
    status_from_kinds,
    wage_report_result,
)


def report(session: Session, report_id: int, ttl_seconds: int | None = None) -> WageReportResult:
    found = load_report(session, report_id)
    state = report_state(session, report_id)
    balance = read_balance(session, found.year, card_id=found.card_id)
    assert balance is not None
    if ttl_seconds is None:
        ttl_seconds = int(session.info.get("pending_ttl_seconds", _DEFAULT_TTL))
    return wage_report_result(found, state, balance, ttl_seconds=ttl_seconds)


_DEFAULT_TTL = LedgerConfig.pending_ttl_seconds


def caps(session: Session) -> list[CapResult]:
    newest = (
        select(CapVersion.year, func.max(CapVersion.id).label("id"))
        .group_by(CapVersion.year).subquery()
    )
    rows = session.scalars(
        select(CapVersion).join(newest, CapVersion.id == newest.c.id).order_by(CapVersion.year)
    )
    return [CapResult(year=r.year, amount_ore=r.amount_ore, source=r.source, is_demo=r.is_demo,
                      set_by=r.actor, set_at=r.created_at)
            for r in rows]


def balances_with_due_reservations(
    session: Session, now: dt.datetime, reserved_before: dt.datetime | None = None,
) -> list[tuple[int, int]]:
    """Card-years holding an open reservation past its expiry: the expiry sweep's work list.

    Open means reserved and not yet posted, voided, expired or reversed; a reservation of
    nothing (a pending report wholly over the cap) is open too and must expire.
    `reserved_before`: only reservations made at or before it (now minus the TTL) are due.
    Reads only card-years with something pending and reservations of nothing, not the whole
    history (see `ledger.service.due_reservations`).
    """
    return due_reservation_keys(session, now, reserved_before)


@dataclass(frozen=True)
class ExportRow:
    report_id: int
    card_number: str
    municipality_code: str
    employer_cvr: str
    employer_name: str
    paid_on: dt.date
    work_from: dt.date
    work_to: dt.date
    hours: Decimal
    amount_ore: int
    counted_ore: int
    over_cap_ore: int
    status: str
    reported_at: dt.datetime
    source_channel: str


def _has(kind: str) -> object:
    return func.max(case((LedgerEntry.kind == kind, 1), else_=0)).label(kind)


_KINDS = ("await_cap", "reserve", "post", "post_direct", "void", "expire", "reverse")


def export_wage_reports(session: Session, municipality_code: str, year: int) -> Iterator[ExportRow]:
    """Every report paid in `year` for cards whose handlekommune is `municipality_code`."""
    return wage_report_rows(session, Card.municipality_code == municipality_code,
                            WageReport.year == year)


def wage_report_rows(session: Session, *conditions: ColumnElement[bool]) -> Iterator[ExportRow]:
    """Reports matching `conditions` (on WageReport, Card or Employer), in report order, each
    with its state derived from its entries: the export's rows, and the console's lists."""
    counted = func.max(case((LedgerEntry.kind.in_(("reserve", "post_direct")),
                             LedgerEntry.counted_ore), else_=0))
    over = func.max(case((LedgerEntry.kind.in_(("reserve", "post_direct")),
                          LedgerEntry.over_cap_ore), else_=0))
    stmt = (
        select(WageReport, Card.number, Card.municipality_code, Employer.cvr, Employer.name,
               counted.label("counted"), over.label("over"), *[_has(k) for k in _KINDS])
        .join(Card, Card.id == WageReport.card_id)
        .join(Employer, Employer.id == WageReport.employer_id)
        .join(LedgerEntry, LedgerEntry.report_id == WageReport.id)
        .where(*conditions)
        .group_by(WageReport.id, Card.number, Card.municipality_code, Employer.cvr, Employer.name)
        .order_by(WageReport.id)
        .execution_options(yield_per=500)
    )
    for row in session.execute(stmt):
        report_row: WageReport = row[0]
        kinds = {kind for kind in _KINDS if getattr(row, kind)}
        yield ExportRow(
            report_id=report_row.id, card_number=row[1], municipality_code=row[2],
            employer_cvr=row[3], employer_name=row[4], paid_on=report_row.paid_on,
            work_from=report_row.work_from, work_to=report_row.work_to,
            hours=Decimal(report_row.hours_centi) / 100, amount_ore=report_row.amount_ore,
            counted_ore=int(row.counted), over_cap_ore=int(row.over),
            status=status_from_kinds(kinds), reported_at=report_row.created_at,
            source_channel=report_row.source_channel,
        )


@dataclass(frozen=True)
class UsageRow:
    municipality_code: str
    municipality_name: str
    cards_granted: int
    cards_used: int
    """Cards with at least one posted (and not reversed) report paid in the year."""

    @property
    def share_used(self) -> float:
        return self.cards_used / self.cards_granted if self.cards_granted else 0.0


def usage_stats(session: Session, year: int,
                municipality_code: str | None = None) -> list[UsageRow]:
    """Cards granted against cards used, per municipality: the key figure of the evaluations.

    `municipality_code`: that municipality's row only (the console's overview for one
    municipality), counted from its own cards instead of every card in the country.
    """
    year_end = dt.date(year, 12, 31)
    mine = [Card.municipality_code == municipality_code] if municipality_code else []
    granted: dict[str, int] = dict(session.execute(
        select(Card.municipality_code, func.count(Card.id))
        .where(Card.issued_on <= year_end, *mine).group_by(Card.municipality_code)
    ).tuples().all())
    used_cards = (
        select(CardBalance.card_id)
        .where(CardBalance.year == year, CardBalance.posted_ore + CardBalance.over_cap_ore > 0)
        .subquery()
    )
    used: dict[str, int] = dict(session.execute(
        select(Card.municipality_code, func.count(Card.id))
        .where(Card.id.in_(select(used_cards.c.card_id)), *mine)
        .group_by(Card.municipality_code)
    ).tuples().all())
    names: dict[str, str] = dict(
        session.execute(select(Municipality.code, Municipality.name)).tuples().all())
    return [
        UsageRow(code, names.get(code, code), int(granted[code]), int(used.get(code, 0)))
        for code in sorted(granted)
    ]


def invariant_violations(session: Session) -> list[str]:
    """Materialised balance == sum of entries, per card and year, for every column."""
    sums = (
        select(
            LedgerEntry.card_id, LedgerEntry.year,
            func.sum(LedgerEntry.awaiting_delta).label("awaiting"),
            func.sum(LedgerEntry.pending_delta).label("pending"),
            func.sum(LedgerEntry.posted_delta).label("posted"),
            func.sum(LedgerEntry.over_cap_delta).label("over_cap"),
            func.count(LedgerEntry.id).label("count"),
        )
        .group_by(LedgerEntry.card_id, LedgerEntry.year)
    ).subquery()
    problems: list[str] = []
    rows = session.execute(
        select(CardBalance, sums).outerjoin(
            sums, and_(sums.c.card_id == CardBalance.card_id, sums.c.year == CardBalance.year))
    ).all()
    for row in rows:
        bal: CardBalance = row[0]
        expected = (bal.awaiting_ore, bal.pending_ore, bal.posted_ore, bal.over_cap_ore,
                    bal.entry_count)
        actual = tuple(int(v or 0) for v in (row.awaiting, row.pending, row.posted,
                                             row.over_cap, row._mapping["count"]))
        if expected != actual:
            problems.append(
                f"card {bal.card_id} year {bal.year}: row {expected} != entries {actual}")
        if bal.cap_ore and bal.posted_ore + bal.pending_ore > bal.cap_ore:
            problems.append(f"card {bal.card_id} year {bal.year}: above cap")
    return problems
