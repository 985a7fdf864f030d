"""Wage reports: reserve room under the cap, post, void, expire, reverse.

The hot path (`report_wage`) runs on SQLAlchemy Core with a fixed, small set of round trips.
A new report on PostgreSQL:

1. one SELECT for the employer, the card, its last status change, the covering employment,
   any idempotency record for the key, whether the year has a cap, and the new report's id;
   every refusal is decided here, before any lock;
2. one call of `frikort_count_report` (report_count.py): the card-year's row lock, the cap
   and the key's record under it, the expiry of reservations past their time, the split,
   and the report, its entry and the balance's movement;
3. one call of `frikort_keep_results`, which writes the idempotency record holding the result
   built from what 2 returned (its foreign-key check planned as an index lookup);
4. at commit, one call of `frikort_audit_append` (db/audit_chain.py).

A batch runs each step once for many reports (report_batch.py). SQLite runs step 2 as
separate statements (`_lock_for_new_report`, `append_entry`; they are in-process calls
there) and BEGIN IMMEDIATE holds the database's write lock for the command.

Idempotency: the record is looked up before the lock (a replay then takes no lock) and again
under it, so a duplicate delivery that waited behind the original answers as a replay. Two
deliveries of one key that still race (for different cards, say) both reach step 3; the
second fails on the record's primary key, its transaction is rolled back, and
`Ledger.run_write` runs it again, when it finds the winner's record and answers as a replay
(or a conflict, for a different payload).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import aliased

from danish.money import format_danish_whole
from db.base import table_of
from db.commands import Actor
from db.tables import (
    CapVersion,
    Card,
    CardEvent,
    Employer,
    Employment,
    IdempotencyRecord,
    LedgerEntry,
    WageReport,
)
from db.unit_of_work import UnitOfWork
from ledger import rules
from ledger.commands import ExpireIfDue, PostReport, ReportWage, ReverseReport, VoidReport
from ledger.errors import (
    AmountOutOfBounds,
    CardNotFound,
    EmployerNotFound,
    EmployerNotVerified,
    HoursImplausible,
    IdempotencyConflict,
    InvalidDates,
    NoEmployment,
    ReportAlreadyReversed,
    ReportExpired,
    ReportNotPending,
    ReportNotPosted,
)
from ledger.results import WageReportResult
from ledger.service import report_count
from ledger.service.balances import (
    CapInForce,
    LockedBalance,
    Movement,
    ReportRef,
    append_entry,
    hold_year,
    lock_balance,
    locked_balance_result,
)
from ledger.service.cards import STATUS_EVENT_KINDS, require_usable
from ledger.service.lookups import normalise_cvr
from ledger.service.report_state import (
    ReportFacts,
    ReportState,
    canonical_request,
    load_report,
    report_state,
    wage_report_result,
)

_REPORTS = table_of(WageReport)
_ENTRIES = table_of(LedgerEntry)
_EMPLOYERS = table_of(Employer)
_CARDS = table_of(Card)
_EVENTS = table_of(CardEvent)
_EMPLOYMENTS = table_of(Employment)
_IDEMPOTENCY = table_of(IdempotencyRecord)
_CAPS = table_of(CapVersion)


@dataclasses.dataclass(frozen=True)
class LookupKeys:
    """Where the lookup takes a report's own values from: bound parameters for one report,
    the columns of an unnested array for a batch (report_batch.py)."""

    cvr: Any
    number: Any
    key: Any
    year: Any
    work_from: Any
    work_to: Any


ONE_REPORT = LookupKeys(cvr=bindparam("p_cvr"), number=bindparam("p_number"),
                        key=bindparam("p_key"), year=bindparam("p_year", type_=Integer),
                        work_from=bindparam("p_work_from", type_=Date),
                        work_to=bindparam("p_work_to", type_=Date))


def request_lookup(source: Any, keys: LookupKeys, *, reserve_report_id: bool) -> Select[Any]:
    """Everything report_wage needs to know before it takes the lock, in one SELECT.

    The employer and the card are outer-joined to `source` (a one-row table for one report)
    so that a missing one still gives a row (and the matching typed error).
    """
    last_change = (
        select(_EVENTS.c.effective_on)
        .where(_EVENTS.c.card_id == _CARDS.c.id, _EVENTS.c.kind.in_(STATUS_EVENT_KINDS))
        .order_by(_EVENTS.c.effective_on.desc(), _EVENTS.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    employment = (
        select(_EMPLOYMENTS.c.id)
        .where(_EMPLOYMENTS.c.employer_id == _EMPLOYERS.c.id,
               _EMPLOYMENTS.c.card_id == _CARDS.c.id,
               _EMPLOYMENTS.c.start_date <= keys.work_from,
               or_(_EMPLOYMENTS.c.end_date.is_(None), _EMPLOYMENTS.c.end_date >= keys.work_to))
        .order_by(_EMPLOYMENTS.c.start_date.desc())
        .limit(1)
        .scalar_subquery()
    )
    cap_exists = exists().where(_CAPS.c.year == keys.year)
    # PostgreSQL: draw the new report's id here, so the result (which holds it) can be
    # built before the one statement that writes everything (report_count.py).
    report_id = (func.nextval(func.pg_get_serial_sequence("wage_reports", "id"))
                 if reserve_report_id else literal(None))
    return (
        select(_EMPLOYERS.c.id, _EMPLOYERS.c.cvr, _EMPLOYERS.c.verified,
               _CARDS.c.id, _CARDS.c.number, _CARDS.c.status, _CARDS.c.valid_from,
               last_change.label("last_change"), employment.label("employment_id"),
               _IDEMPOTENCY.c.request_hash, _IDEMPOTENCY.c.result_json,
               cap_exists.label("cap_exists"), report_id.label("new_report_id"))
        .select_from(source)
        .outerjoin(_EMPLOYERS, _EMPLOYERS.c.cvr == keys.cvr)
        .outerjoin(_CARDS, _CARDS.c.number == keys.number)
        .outerjoin(_IDEMPOTENCY, and_(_IDEMPOTENCY.c.scope == keys.cvr,
                                      _IDEMPOTENCY.c.key == keys.key))
    )


_ONE = select(literal(1).label("one")).subquery("one")
_REQUEST_LOOKUP = request_lookup(_ONE, ONE_REPORT, reserve_report_id=False)
_REQUEST_LOOKUP_PG = request_lookup(_ONE, ONE_REPORT, reserve_report_id=True)
_INSERT_REPORT = _REPORTS.insert().returning(_REPORTS.c.id)
_INSERT_IDEMPOTENCY = _IDEMPOTENCY.insert()
_KEEP_RESULTS = text("SELECT frikort_keep_results(CAST(:records AS json), :at)")


@dataclasses.dataclass(frozen=True)
class Admitted:
    """A new report that passed every check made before the lock: what counting it needs."""

    cmd: ReportWage
    request_hash: str
    row: dict[str, Any]
    """The wage_reports columns but id and created_at."""
    new_id: int | None
    """The id the lookup drew (PostgreSQL); None where the insert draws it (SQLite)."""
    cap_exists: bool
    employer_cvr: str
    card_number: str


def report_wage(cmd: ReportWage, *, uow: UnitOfWork, actor: Actor) -> WageReportResult:
    """Records a wage report, counting what fits under the cap and splitting off the rest.

    Raises:
        DomainError subclasses for every refusal; nothing is written then.
    """
    work = check_request(cmd, uow)
    conn = uow.session.connection()
    on_postgres = conn.dialect.name == "postgresql"
    found = conn.execute(_REQUEST_LOOKUP_PG if on_postgres else _REQUEST_LOOKUP,
                         {f"p_{name}": value
                          for name, value in lookup_values(cmd, work).items()}).one()
    admitted = admit(cmd, found, work, uow=uow, actor=actor)
    if isinstance(admitted, WageReportResult):
        return admitted
    if on_postgres:
        uow.session.flush()  # anything the ORM holds for this transaction goes first
        counted = report_count.count_new_report(
            conn, admitted.row, report_id=int(admitted.new_id or 0), now=uow.now,
            reserved_before=reservation_due_cutoff(uow), scope=admitted.employer_cvr,
            key=cmd.idempotency_key, hold_year=not admitted.cap_exists)
        result = counted_on_server(uow, admitted, counted)
    else:
        result = _count_here(uow, actor, admitted)
    if result.replayed:  # the same key, committed while this one waited for the lock
        return result
    keep_results(conn, [record(uow, actor, admitted, result)], at=uow.now)
    uow.commit()
    return result


def lookup_values(cmd: ReportWage, work: tuple[dt.date, dt.date]) -> dict[str, Any]:
    """The lookup's values for one report, by the names of `LookupKeys`."""
    return {"cvr": normalise_cvr(cmd.employer_cvr), "number": cmd.card_number.strip(),
            "key": cmd.idempotency_key, "year": cmd.paid_on.year,
            "work_from": work[0], "work_to": work[1]}


def admit(cmd: ReportWage, found: Any, work: tuple[dt.date, dt.date], *, uow: UnitOfWork,
          actor: Actor) -> Admitted | WageReportResult:
    """Decides from the lookup's row: a refusal (raised), a replay, or a report to count."""
    (employer_id, employer_cvr, verified, card_id, card_number, card_status, valid_from,
     last_change, employment_id, stored_hash, stored_result, cap_exists, new_id) = found
    if employer_id is None:
        raise EmployerNotFound(cvr=cmd.employer_cvr)
    if card_id is None:
        raise CardNotFound(number=cmd.card_number)
    payload = canonical_request(_payload(cmd, employer_cvr))
    request_hash = hashlib.sha256(payload.encode()).hexdigest()
    if stored_hash is not None:
        return replay(cmd, request_hash, stored_hash, stored_result)
    if not verified:
        raise EmployerNotVerified(cvr=employer_cvr)
    require_usable(uow.session, card_id=card_id, number=card_number, status=card_status,
                   valid_from=valid_from, last_change=last_change, day=cmd.paid_on)
    if employment_id is None:
        raise NoEmployment(number=card_number)
    row = {
        "employer_id": employer_id, "card_id": card_id, "employment_id": employment_id,
        "year": cmd.paid_on.year, "paid_on": cmd.paid_on, "work_from": work[0],
        "work_to": work[1], "hours_centi": int(cmd.hours * 100),
        "amount_ore": cmd.amount_ore, "post_on_create": cmd.post,
        "expires_at": uow.now + dt.timedelta(seconds=uow.config.pending_ttl_seconds),
        "source_channel": actor.channel, "source_message_id": cmd.source_message_id,
        "actor": actor.name,
    }
    return Admitted(cmd, request_hash, row, None if new_id is None else int(new_id),
                    bool(cap_exists), employer_cvr, card_number)


def counted_on_server(uow: UnitOfWork, admitted: Admitted,
                      counted: report_count.ServerCount) -> WageReportResult:
    """The result of `frikort_count_report`'s count (or its replay), checked against the
    rules: the function's split must be the one `ledger.rules` makes."""
    cmd = admitted.cmd
    if counted.stored_key is not None:
        return replay(cmd, admitted.request_hash, *counted.stored_key)
    report = _facts(admitted, int(admitted.new_id or 0))
    step = _count_against_cap(uow, counted.cap, counted.used_before, report, confirmed=cmd.post)
    if (step.state.counted, step.state.over_cap) != (counted.counted, counted.over_cap):
        raise RuntimeError("frikort_count_report split differently from ledger.rules")
    return wage_report_result(report, step.state,
                              counted.balance(admitted.card_number, report.year),
                              ttl_seconds=uow.config.pending_ttl_seconds,
                              warnings=step.warnings)


def _count_here(uow: UnitOfWork, actor: Actor, admitted: Admitted) -> WageReportResult:
    """The statement path (SQLite) of the count: the lock, the report, its entry."""
    cmd, year = admitted.cmd, admitted.cmd.paid_on.year
    balance = _lock_for_new_report(uow, actor, int(admitted.row["card_id"]), year,
                                   cap_exists=admitted.cap_exists,
                                   key=(admitted.employer_cvr, cmd.idempotency_key))
    if balance.stored_key is not None:
        return replay(cmd, admitted.request_hash, *balance.stored_key)
    new_id = uow.session.connection().execute(
        _INSERT_REPORT, {**admitted.row, "created_at": uow.now}).scalar_one()
    report = _facts(admitted, int(new_id))
    step = _count_against_cap(uow, balance.cap, balance.used_ore, report, confirmed=cmd.post)
    append_entry(uow.session, balance, report.ref, step.kind, step.movement,
                 counted=step.state.counted, over_cap=step.state.over_cap,
                 actor=actor.name, now=uow.now)
    return wage_report_result(report, step.state,
                              locked_balance_result(admitted.card_number, balance),
                              ttl_seconds=uow.config.pending_ttl_seconds,
                              warnings=step.warnings)


def _facts(admitted: Admitted, report_id: int) -> ReportFacts:
    row = admitted.row
    return ReportFacts(
        id=report_id, employer_id=int(row["employer_id"]), card_id=int(row["card_id"]),
        year=row["year"], paid_on=row["paid_on"], hours_centi=row["hours_centi"],
        amount_ore=row["amount_ore"], post_on_create=row["post_on_create"],
        expires_at=row["expires_at"], card_number=admitted.card_number,
        employer_cvr=admitted.employer_cvr,
    )


def record(uow: UnitOfWork, actor: Actor, admitted: Admitted,
           result: WageReportResult) -> dict[str, Any]:
    """The idempotency record's row for a new report; the audit row goes to the unit of work
    (written at commit, on the end of the audit hash chain: db/audit_chain.py)."""
    uow.audit(actor, "wage_report.create", "wage_report", result.id, status=result.status,
              amount_ore=admitted.cmd.amount_ore, counted_ore=result.counted_ore)
    return {"scope": admitted.employer_cvr, "key": admitted.cmd.idempotency_key,
            "request_hash": admitted.request_hash, "report_id": result.id,
            "result_json": result.model_dump_json()}


def keep_results(conn: Connection, records: list[dict[str, Any]], *, at: dt.datetime) -> None:
    """Writes the idempotency records `record` made, in one statement on PostgreSQL
    (`frikort_keep_results`: its foreign-key checks are index lookups, see its migration)."""
    if not records:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(_INSERT_IDEMPOTENCY, [{**row, "created_at": at} for row in records])
        return
    conn.execute(_KEEP_RESULTS, {"records": json.dumps(records), "at": at})


def _lock_for_new_report(uow: UnitOfWork, actor: Actor, card_id: int, year: int, *,
                         cap_exists: bool, key: tuple[str, str]) -> LockedBalance:
    """The statement path (SQLite) of what `frikort_count_report` does before the split."""
    session = uow.session
    # No cap for the year yet: the operator may be setting it right now. Wait for them
    # (the year's advisory lock) before the row lock, then read the cap under both.
    if not cap_exists:
        hold_year(session, year)
    balance = lock_balance(session, card_id, year, counting=True, year_held=not cap_exists,
                           key=key)
    if balance.stored_key is not None:  # the same key, committed while we waited
        return balance
    expire_due_for_balance(uow, balance, actor)
    if balance.cap is None:
        # Defensive: with the year's lock held above, the cap read under the row lock is
        # final. Should a caller get here without it: hold it and read again.
        hold_year(session, year)
        balance = lock_balance(session, card_id, year)
    return balance


def replay(cmd: ReportWage, request_hash: str, stored_hash: str,
            stored_result: str) -> WageReportResult:
    """The original answer for a key already used (nothing written), or a conflict."""
    if stored_hash != request_hash:
        raise IdempotencyConflict(key=cmd.idempotency_key)
    original = WageReportResult.model_validate_json(stored_result)
    return original.model_copy(update={"replayed": True})


def check_request(cmd: ReportWage, uow: UnitOfWork) -> tuple[dt.date, dt.date]:
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


@dataclasses.dataclass(frozen=True)
class _Counted:
    kind: str
    movement: Movement
    state: ReportState
    warnings: tuple[int, ...]


def _count_against_cap(
    uow: UnitOfWork, cap: CapInForce | None, used_before: int, report: ReportFacts, *,
    confirmed: bool,
) -> _Counted:
    """What the new report's entry does: reserve or post what fits, or wait for the cap.

    `cap` is the cap in force and `used_before` the card-year's posted plus pending amount,
    both read under the card-year's row lock.
    """
    if cap is None:
        return _Counted("await_cap", Movement(awaiting=report.amount_ore),
                        ReportState("awaiting_cap", 0, 0, confirmed=False), ())
    split = rules.split_against_cap(report.amount_ore, used_before, cap.amount_ore)
    warnings = rules.crossed_warnings(used_before, used_before + split.counted, cap.amount_ore)
    if confirmed:
        return _Counted("post_direct", Movement(posted=split.counted, over_cap=split.over_cap),
                        ReportState("posted", split.counted, split.over_cap, confirmed=False),
                        warnings)
    return _Counted("reserve", Movement(pending=split.counted),
                    ReportState("pending", split.counted, split.over_cap, confirmed=False,
                                reserved_at=uow.now),
                    warnings)


def _load_locked(uow: UnitOfWork, report_id: int) -> tuple[ReportFacts, LockedBalance]:
    report = load_report(uow.session, report_id)
    return report, lock_balance(uow.session, report.card_id, report.year)


def _result(uow: UnitOfWork, report: ReportFacts, state: ReportState,
            balance: LockedBalance) -> WageReportResult:
    return wage_report_result(report, state, locked_balance_result(report.card_number, balance),
                              ttl_seconds=uow.config.pending_ttl_seconds)


def post_report(cmd: PostReport, *, uow: UnitOfWork, actor: Actor) -> WageReportResult:
    """Confirms a pending report: its reservation becomes posted income."""
    report, balance = _load_locked(uow, cmd.report_id)
    expire_due_for_balance(uow, balance, actor)
    state = report_state(uow.session, report.id)
    if state.status == "expired":
        uow.commit()  # keep the expiry just written, then refuse
        raise ReportExpired(id=report.id)
    if state.status == "awaiting_cap" and not state.confirmed:
        append_entry(uow.session, balance, report.ref, "confirm", Movement(),
                     actor=actor.name, now=uow.now)
        after = dataclasses.replace(state, confirmed=True)
    elif state.status == "pending":
        append_entry(uow.session, balance, report.ref, "post",
                     Movement(pending=-state.counted, posted=state.counted,
                              over_cap=state.over_cap),
                     actor=actor.name, now=uow.now)
        after = dataclasses.replace(state, status="posted")
    else:
        raise ReportNotPending(status=state.status)
    uow.audit(actor, "wage_report.post", "wage_report", report.id)
    result = _result(uow, report, after, balance)
    uow.commit()
    return result


def expire_if_due(cmd: ExpireIfDue, *, uow: UnitOfWork, actor: Actor) -> WageReportResult:
    """The periodic sweep's work for this report's card-year, done now; the report as it is
    afterwards (expired if its time was up, unchanged otherwise)."""
    report, balance = _load_locked(uow, cmd.report_id)
    expire_due_for_balance(uow, balance, actor)
    result = _result(uow, report, report_state(uow.session, report.id), balance)
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
    append_entry(uow.session, balance, report.ref, "void", movement, actor=actor.name,
                 now=uow.now, reason=cmd.reason)
    uow.audit(actor, "wage_report.void", "wage_report", report.id, reason=cmd.reason)
    result = _result(uow, report, dataclasses.replace(state, status="voided"), balance)
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
    append_entry(uow.session, balance, report.ref, "reverse",
                 Movement(posted=-state.counted, over_cap=-state.over_cap),
                 actor=actor.name, now=uow.now, reason=cmd.reason)
    uow.audit(actor, "wage_report.reverse", "wage_report", report.id, reason=cmd.reason)
    result = _result(uow, report, dataclasses.replace(state, status="reversed"), balance)
    uow.commit()
    return result


_SETTLED = aliased(LedgerEntry.__table__, name="settled")
_DUE = (
    select(_ENTRIES.c.report_id, _ENTRIES.c.counted_ore)
    .join(_REPORTS, _REPORTS.c.id == _ENTRIES.c.report_id)
    .where(
        _ENTRIES.c.card_id == bindparam("p_card_id", type_=BigInteger),
        _ENTRIES.c.year == bindparam("p_year", type_=Integer),
        _ENTRIES.c.kind == "reserve",
        # Due only when both the report's own expiry and the full TTL since the room was
        # reserved have passed: a report that waited for the year's cap is reserved when
        # the cap is set, and still gets its time to be confirmed.
        _REPORTS.c.expires_at <= bindparam("p_now", type_=_REPORTS.c.expires_at.type),
        _ENTRIES.c.created_at <= bindparam("p_reserved_before",
                                           type_=_ENTRIES.c.created_at.type),
        # Only reservations still open (not posted, voided, expired or reversed).
        ~exists().where(_SETTLED.c.report_id == _ENTRIES.c.report_id,
                        _SETTLED.c.kind.in_(("post", "void", "expire", "reverse"))),
    )
    .order_by(_ENTRIES.c.report_id)
)


def reservation_due_cutoff(uow: UnitOfWork) -> dt.datetime:
    """A reservation made at or before this instant has had its full time."""
    return uow.now - dt.timedelta(seconds=uow.config.pending_ttl_seconds)


def expire_due_for_balance(uow: UnitOfWork, balance: LockedBalance, actor: Actor) -> int:
    """Frees reservations past their expiry for one locked card-year; returns how many."""
    # No short cut on `pending_ore == 0`: a pending report wholly over the cap reserves
    # nothing and must still expire (the stateful test found this).
    due = uow.session.connection().execute(_DUE, {
        "p_card_id": balance.card_id, "p_year": balance.year, "p_now": uow.now,
        "p_reserved_before": reservation_due_cutoff(uow),
    }).all()
    for report_id, counted in due:
        # An open reservation is a pending report: its reserve entry holds `counted`.
        append_entry(uow.session, balance, ReportRef(int(report_id), balance.card_id,
                                                     balance.year),
                     "expire", Movement(pending=-int(counted)), actor=actor.name, now=uow.now)
    return len(due)
