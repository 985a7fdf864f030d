"""Many wage reports at once (a payroll system's batch, a CSV import), on the single path.

Each report runs `reports.report_wage`, the same command as a single report, with its own
savepoint inside a transaction that holds a chunk of reports: a refused report rolls back to
its savepoint and the others go on, and the chunk commits once (one commit, one append to the
audit chain) instead of once per report. The cap check, the split, the idempotency record
and the row lock are the single path's; nothing here counts money.

Order: the reports of one chunk are run sorted by card number and year, keeping the batch's
own order within one card-year (which is what decides the split when several reports of a
batch share a card). Every batch takes its card-year locks in that one order, so two batches
cannot deadlock each other on them; a single report takes only one.

A retryable database failure (a deadlock with `set_cap`, a race on an idempotency key with a
request outside the batch) rolls the whole chunk back and `Ledger.run_write` runs it again;
a report already committed in an earlier chunk answers as a replay then, like any retry.
"""

from __future__ import annotations

from collections.abc import Sequence

from db.commands import Actor
from db.errors import DomainError
from db.unit_of_work import UnitOfWork
from ledger.commands import ReportWage
from ledger.results import WageReportResult
from ledger.service import reports

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
