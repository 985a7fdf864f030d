"""Wage reports: reserve room under the cap, post, void, expire, reverse."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from ledger import rules
from ledger.commands import Actor, PostReport, ReportWage, ReverseReport, VoidReport
from ledger.db.tables import CardBalance, IdempotencyRecord, LedgerEntry, WageReport
from ledger.errors import (
    AmountOutOfBounds,
    EmployerNotVerified,
    HoursImplausible,
    IdempotencyConflict,
    InvalidDates,
    ReportAlreadyReversed,
    ReportExpired,
    ReportNotFound,
    ReportNotPending,
    ReportNotPosted,
)
from ledger.money import format_danish_whole
from ledger.results import WageReportResult
from ledger.service.balances import Movement, append_entry, hold_year, lock_balance
from ledger.service.cards import require_usable_on
from ledger.service.employments import covering_employment
from ledger.service.lookups import cap_in_force, card_by_number, employer_by_cvr
from ledger.service.report_state import canonical_request, report_result, report_state
from ledger.unit_of_work import UnitOfWork


def report_wage(cmd: ReportWage, *, uow: UnitOfWork, actor: Actor) -> WageReportResult:
    """Records a wage report, counting what fits under the cap and splitting off the rest.

    Raises:
        LedgerError subclasses for every refusal; nothing is written then.
    """
    work_from, work_to = _check_request(cmd, uow)
    session = uow.session
    employer = employer_by_cvr(session, cmd.employer_cvr)
    card = card_by_number(session, cmd.card_number)
    year = cmd.paid_on.year
    balance = lock_balance(session, card.id, year)

    request_hash = hashlib.sha256(canonical_request(_payload(cmd, employer.cvr)).encode()).hexdigest()
    record = session.get(IdempotencyRecord, (employer.cvr, cmd.idempotency_key))
    if record is not None:
        if record.request_hash != request_hash:
            raise IdempotencyConflict(key=cmd.idempotency_key)
        original = WageReportResult.model_validate_json(record.result_json)
        return original.model_copy(update={"replayed": True})

    if not employer.verified:
        raise EmployerNotVerified(cvr=employer.cvr)
    require_usable_on(session, card, cmd.paid_on)
    employment = covering_employment(session, employer.id, card, work_from, work_to)
    expire_due_for_balance(uow, balance, actor)

    report = WageReport(
        employer_id=employer.id, card_id=card.id, employment_id=employment.id, year=year,
        paid_on=cmd.paid_on, work_from=work_from, work_to=work_to,
        hours_centi=int(cmd.hours * 100), amount_ore=cmd.amount_ore, post_on_create=cmd.post,
        expires_at=uow.now + dt.timedelta(seconds=uow.config.pending_ttl_seconds),
        source_channel=actor.channel, source_message_id=cmd.source_message_id,
        actor=actor.name, created_at=uow.now,
    )
    session.add(report)
    session.flush()
    warnings = _count_against_cap(uow, balance, report, actor, confirmed=cmd.post)
    result = report_result(session, report, balance, warnings=warnings)
    session.add(IdempotencyRecord(
        scope=employer.cvr, key=cmd.idempotency_key, request_hash=request_hash,
        report_id=report.id, result_json=result.model_dump_json(), created_at=uow.now,
    ))
    uow.audit(actor, "wage_report.create", "wage_report", report.id, status=result.status,
              amount_ore=cmd.amount_ore, counted_ore=result.counted_ore)
    uow.commit()
    return result


def _check_request(cmd: ReportWage, uow: UnitOfWork) -> tuple[dt.date, dt.date]:
    if not 0 < cmd.amount_ore <= uow.config.max_report_ore:
        raise AmountOutOfBounds(max_amount=format_danish_whole(uow.config.max_report_ore))
    if cmd.paid_on > uow.today:
        raise InvalidDates(reason="Betalingsdatoen ligger i fremtiden.")
    work_from = cmd.work_from or cmd.work_to or cmd.paid_on
    work_to = cmd.work_to or work_from
    if work_to < work_from:
        raise InvalidDates(reason="Arbejdet kan ikke slutte før det begynder.")
    if work_from > uow.today:
        raise InvalidDates(reason="Arbejdet ligger i fremtiden.")
    if not rules.hours_plausible(cmd.hours, work_from, work_to, uow.config.max_hours_per_day):
        raise HoursImplausible()
    return work_from, work_to


def _payload(cmd: ReportWage, cvr: str) -> dict[str, object]:
    data = cmd.model_dump(exclude={"idempotency_key", "source_message_id"})
    data["employer_cvr"] = cvr
    data["hours"] = str(Decimal(cmd.hours).normalize())
    return data


def _count_against_cap(
    uow: UnitOfWork, balance: CardBalance, report: WageReport, actor: Actor, *, confirmed: bool
) -> tuple[int, ...]:
    """Reserves or posts what fits under the cap; waits for the cap if none is loaded."""
    cap = cap_in_force(uow.session, report.year)
    if cap is None:
        # The operator may be setting this year's cap right now: wait for them, look again.
        hold_year(uow.session, report.year)
        cap = cap_in_force(uow.session, report.year)
        if cap is not None and balance.cap_ore != cap.amount_ore:
            balance.cap_ore = cap.amount_ore
    if cap is None:
        append_entry(uow.session, balance, report, "await_cap",
                     Movement(awaiting=report.amount_ore), actor=actor.name, now=uow.now)
        return ()
    used_before = balance.posted_ore + balance.pending_ore
    split = rules.split_against_cap(report.amount_ore, used_before, cap.amount_ore)
    if confirmed:
        movement = Movement(posted=split.counted, over_cap=split.over_cap)
        kind = "post_direct"
    else:
        movement = Movement(pending=split.counted)
        kind = "reserve"
    append_entry(uow.session, balance, report, kind, movement, counted=split.counted,
                 over_cap=split.over_cap, actor=actor.name, now=uow.now)
    return rules.crossed_warnings(used_before, used_before + split.counted, cap.amount_ore)


def _load_locked(uow: UnitOfWork, report_id: int) -> tuple[WageReport, CardBalance]:
    report = uow.session.get(WageReport, report_id)
    if report is None:
        raise ReportNotFound(id=report_id)
    return report, lock_balance(uow.session, report.card_id, report.year)


def post_report(cmd: PostReport, *, uow: UnitOfWork, actor: Actor) -> WageReportResult:
    """Confirms a pending report: its reservation becomes posted income."""
    report, balance = _load_locked(uow, cmd.report_id)
    expire_due_for_balance(uow, balance, actor)
    state = report_state(uow.session, report.id)
    if state.status == "expired":
        uow.commit()  # keep the expiry just written, then refuse
        raise ReportExpired(id=report.id)
    if state.status == "awaiting_cap" and not state.confirmed:
        append_entry(uow.session, balance, report, "confirm", Movement(),
                     actor=actor.name, now=uow.now)
    elif state.status == "pending":
        append_entry(uow.session, balance, report, "post",
                     Movement(pending=-state.counted, posted=state.counted,
                              over_cap=state.over_cap),
                     actor=actor.name, now=uow.now)
    else:
        raise ReportNotPending(status=state.status)
    uow.audit(actor, "wage_report.post", "wage_report", report.id)
    result = report_result(uow.session, report, balance)
    uow.commit()
    return result


def void_report(cmd: VoidReport, *, uow: UnitOfWork, actor: Actor) -> WageReportResult:
    """Cancels an unconfirmed report and frees its reservation."""
    report, balance = _load_locked(uow, cmd.report_id)
    state = report_state(uow.session, report.id)
    if state.status == "pending":
        movement = Movement(pending=-state.counted)
    elif state.status == "awaiting_cap":
        movement = Movement(awaiting=-report.amount_ore)
    else:
        raise ReportNotPending(status=state.status)
    append_entry(uow.session, balance, report, "void", movement, actor=actor.name,
                 now=uow.now, reason=cmd.reason)
    uow.audit(actor, "wage_report.void", "wage_report", report.id, reason=cmd.reason)
    result = report_result(uow.session, report, balance)
    uow.commit()
    return result


def reverse_report(cmd: ReverseReport, *, uow: UnitOfWork, actor: Actor) -> WageReportResult:
    """Corrects a posted report by a reversal entry; the original stays in the ledger."""
    report, balance = _load_locked(uow, cmd.report_id)
    state = report_state(uow.session, report.id)
    if state.status == "reversed":
        raise ReportAlreadyReversed(id=report.id)
    if state.status != "posted":
        raise ReportNotPosted(status=state.status)
    append_entry(uow.session, balance, report, "reverse",
                 Movement(posted=-state.counted, over_cap=-state.over_cap),
                 actor=actor.name, now=uow.now, reason=cmd.reason)
    uow.audit(actor, "wage_report.reverse", "wage_report", report.id, reason=cmd.reason)
    result = report_result(uow.session, report, balance)
    uow.commit()
    return result


def expire_due_for_balance(uow: UnitOfWork, balance: CardBalance, actor: Actor) -> int:
    """Frees reservations past their expiry for one locked card-year; returns how many."""
    if balance.pending_ore == 0:
        return 0  # nothing reserved, nothing to free: the common case costs no query
    reserved = select(LedgerEntry.report_id).where(
        LedgerEntry.card_id == balance.card_id, LedgerEntry.year == balance.year,
        LedgerEntry.kind == "reserve",
    )
    settled = aliased(LedgerEntry)
    due = uow.session.scalars(
        select(WageReport)
        .where(WageReport.id.in_(reserved), WageReport.expires_at <= uow.now,
               # Only reservations still open: without this, every write to a card-year
               # with anything pending re-read the state of every report it ever reserved
               # (one query each) once their expiry had passed.
               ~exists().where(settled.report_id == WageReport.id,
                               settled.kind.in_(("post", "void", "expire", "reverse"))))
        .order_by(WageReport.id)
    ).all()
    expired = 0
    for report in due:
        state = report_state(uow.session, report.id)
        if state.status == "pending":
            append_entry(uow.session, balance, report, "expire",
                         Movement(pending=-state.counted), actor=actor.name, now=uow.now)
            expired += 1
    if expired:
        # Autoflush is off: make the expiry entries visible to the caller's next query
        # (post_report reads the report's state right after this and must see "expired").
        uow.session.flush()
    return expired
