"""A report's state is derived from its entries, so it can never disagree with the ledger."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.db.tables import Card, CardBalance, Employer, LedgerEntry, WageReport
from ledger.results import AWAITING_CAP_REASON, ReportStatus, WageReportResult
from ledger.service.balances import balance_result


@dataclass(frozen=True)
class ReportState:
    status: ReportStatus
    counted: int
    over_cap: int
    confirmed: bool


def status_from_kinds(kinds: set[str]) -> ReportStatus:
    """Later steps win: a reversal ends a posted report, a void or expiry ends a pending one."""
    for kind, status in (
        ("reverse", "reversed"),
        ("void", "voided"),
        ("expire", "expired"),
        ("post", "posted"),
        ("post_direct", "posted"),
        ("reserve", "pending"),
    ):
        if kind in kinds:
            return status  # type: ignore[return-value]
    return "awaiting_cap"


def report_state(session: Session, report_id: int) -> ReportState:
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.report_id == report_id)).all()
    kinds = {entry.kind for entry in entries}
    split = next((e for e in entries if e.kind in ("reserve", "post_direct")), None)
    return ReportState(
        status=status_from_kinds(kinds),
        counted=split.counted_ore if split else 0,
        over_cap=split.over_cap_ore if split else 0,
        confirmed="confirm" in kinds,
    )


def report_result(
    session: Session,
    report: WageReport,
    balance: CardBalance | None,
    *,
    warnings: tuple[int, ...] = (),
) -> WageReportResult:
    session.flush()  # autoflush is off: make this command's entries visible to the query
    state = report_state(session, report.id)
    card_number = session.scalar(select(Card.number).where(Card.id == report.card_id))
    cvr = session.scalar(select(Employer.cvr).where(Employer.id == report.employer_id))
    assert card_number is not None and cvr is not None
    if balance is None:
        balance = session.get(CardBalance, (report.card_id, report.year))
    return WageReportResult(
        id=report.id,
        status=state.status,
        employer_cvr=cvr,
        card_number=card_number,
        paid_on=report.paid_on,
        hours=Decimal(report.hours_centi) / 100,
        amount_ore=report.amount_ore,
        counted_ore=state.counted,
        over_cap_ore=state.over_cap,
        expires_at=report.expires_at if state.status == "pending" else None,
        pending_reason=AWAITING_CAP_REASON if state.status == "awaiting_cap" else None,
        warnings=warnings,
        balance=balance_result(session, card_number, balance, report.year),
    )


def canonical_request(payload: dict[str, object]) -> str:
    """The request as compared for idempotency: sorted keys, no whitespace, dates as ISO."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
