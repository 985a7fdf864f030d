"""Many wage reports at once (a payroll system's batch, a CSV import), on the single path.

A chunk of reports is one transaction: it commits once (one commit, one append to the audit
chain) instead of once per report. The checks, the cap, the split, the idempotency record and
the row lock are the single path's (`reports`); nothing here counts money.

- **PostgreSQL:** the single path's steps, each for the whole chunk in one round trip: one
  lookup over the chunk's values (one JSON array), the checks and refusals in Python, one call that
  counts every admitted report (`report_count.count_new_reports`, which runs the single
  report's function once per report), one insert of the idempotency records. A refusal
  writes nothing, as before the lock on the single path.
- **SQLite, and a chunk that holds one idempotency key twice:** each report runs
  `reports.report_wage` in its own savepoint; a refused report rolls back to it and the
  others go on. (A key's second use must see the first's record, which the set-based path
  writes only at its end.)

Order: the reports of one chunk are run sorted by card number and year, keeping the batch's
own order within one card-year (which is what decides the split when several reports of a
batch share a card). Every batch takes its card-year locks in that one order, so two batches
cannot deadlock each other on them; a single report takes only one.

A retryable database failure (a deadlock with `set_cap`, a race on an idempotency key with a
request outside the batch) rolls the whole chunk back and `Ledger.run_write` runs it again;
a report already committed in an earlier chunk answers as a replay then, like any retry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, bindparam, column, func

from db.commands import Actor
from db.errors import DomainError
from db.unit_of_work import UnitOfWork
from ledger.commands import ReportWage
from ledger.results import WageReportResult
from ledger.service import report_count, reports
from ledger.service.lookups import normalise_cvr

MAX_BATCH = 1000
"""The most reports one batch may hold (the REST endpoint refuses more)."""
CHUNK = 250
"""Reports per transaction: fewer commits, yet no transaction holds a thousand row locks."""

Outcome = WageReportResult | DomainError
"""A report's result, or the typed refusal that left it out (nothing written for it)."""


def lock_order(cmds: Sequence[ReportWage]) -> list[int]:
    """Indexes of `cmds` in the order their card-year locks are taken (stable within one)."""
    return sorted(range(len(cmds)),
                  key=lambda i: (cmds[i].card_number.strip(), cmds[i].paid_on.year))


def chunks(order: list[int], size: int = CHUNK) -> list[list[int]]:
    return [order[start:start + size] for start in range(0, len(order), size)]


def report_chunk(cmds: Sequence[ReportWage], *, uow: UnitOfWork, actor: Actor) -> list[Outcome]:
    """The chunk's outcomes, in its order, committed together (see the module's text)."""
    if uow.session.connection().dialect.name == "postgresql" and not _key_twice(cmds):
        return _report_chunk_at_once(cmds, uow=uow, actor=actor)
    return _report_chunk_one_by_one(cmds, uow=uow, actor=actor)


def _key_twice(cmds: Sequence[ReportWage]) -> bool:
    seen: set[tuple[str, str]] = set()
    for cmd in cmds:
        try:
            scope = normalise_cvr(cmd.employer_cvr)
        except DomainError:
            continue  # refused before any lookup, on either path
        if (scope, cmd.idempotency_key) in seen:
            return True
        seen.add((scope, cmd.idempotency_key))
    return False


_WANTED = func.json_to_recordset(bindparam("wanted", type_=JSON)).table_valued(
    column("cvr", String), column("number", String), column("key", String),
    column("year", Integer), column("work_from", Date), column("work_to", Date),
    column("position", Integer)).render_derived(name="wanted", with_types=True)
_LOOKUP_MANY = (
    reports.request_lookup(_WANTED, reports.LookupKeys(
        cvr=_WANTED.c.cvr, number=_WANTED.c.number, key=_WANTED.c.key, year=_WANTED.c.year,
        work_from=_WANTED.c.work_from, work_to=_WANTED.c.work_to), reserve_report_id=True)
    .add_columns(_WANTED.c.position)
    .order_by(_WANTED.c.position)
)


def _report_chunk_at_once(cmds: Sequence[ReportWage], *, uow: UnitOfWork,
                          actor: Actor) -> list[Outcome]:
    """PostgreSQL: the chunk's lookup, count and idempotency records, one round trip each."""
    outcomes: list[Outcome | None] = [None] * len(cmds)
    admitted = _admit_all(cmds, outcomes, uow=uow, actor=actor)
    conn = uow.session.connection()
    uow.session.flush()  # anything the ORM holds for this transaction goes first
    counts = report_count.count_new_reports(conn, [
        report_count.NewReport(new.row, int(new.new_id or 0), new.employer_cvr,
                               new.cmd.idempotency_key, not new.cap_exists)
        for _, new in admitted], now=uow.now,
        reserved_before=reports.reservation_due_cutoff(uow))
    records: list[dict[str, Any]] = []
    for (index, new), counted in zip(admitted, counts, strict=True):
        try:
            result = reports.counted_on_server(uow, new, counted)
        except DomainError as error:  # the key was used for another report meanwhile
            outcomes[index] = error
            continue
        outcomes[index] = result
        if not result.replayed:
            records.append(reports.record(uow, actor, new, result))
    reports.keep_results(conn, records, at=uow.now)
    uow.commit()
    answered = [outcome for outcome in outcomes if outcome is not None]
    if len(answered) != len(cmds):
        raise RuntimeError("a report of the chunk was left without an outcome")
    return answered


def _admit_all(cmds: Sequence[ReportWage], outcomes: list[Outcome | None], *,
               uow: UnitOfWork, actor: Actor) -> list[tuple[int, reports.Admitted]]:
    """The single path's checks for every report, with one lookup for all: the reports to
    count (by index), while refusals and replays go straight into `outcomes`."""
    checked: list[tuple[int, tuple[dt.date, dt.date], dict[str, Any]]] = []
    for index, cmd in enumerate(cmds):
        try:
            work = reports.check_request(cmd, uow)
            checked.append((index, work, reports.lookup_values(cmd, work)))
        except DomainError as error:
            outcomes[index] = error
    if not checked:
        return []
    found = uow.session.connection().execute(_LOOKUP_MANY, {"wanted": [
        {**values, "work_from": values["work_from"].isoformat(),
         "work_to": values["work_to"].isoformat(), "position": position}
        for position, (_, _, values) in enumerate(checked)
    ]}).all()
    admitted: list[tuple[int, reports.Admitted]] = []
    for (index, work, _), row in zip(checked, found, strict=True):
        try:
            decided = reports.admit(cmds[index], row[:-1], work, uow=uow, actor=actor)
        except DomainError as error:
            outcomes[index] = error
            continue
        if isinstance(decided, WageReportResult):
            outcomes[index] = decided
        else:
            admitted.append((index, decided))
    return admitted


def _report_chunk_one_by_one(cmds: Sequence[ReportWage], *, uow: UnitOfWork,
                             actor: Actor) -> list[Outcome]:
    """Runs each command in its own savepoint of one transaction, then commits them together.

    Only `DomainError` is caught (a refusal: that report's savepoint is rolled back). A
    database error leaves the loop, so the caller's retry runs the chunk from the start.
    """
    outcomes: list[Outcome] = []
    for cmd in cmds:
        try:
            with uow.nested() as step:
                outcomes.append(reports.report_wage(cmd, uow=step, actor=actor))
        except DomainError as error:
            outcomes.append(error)
    uow.commit()
    return outcomes
