"""`Ledger`: what `api/` and `bot/` hold. One method per command, each in its own unit of work."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from db import audit_chain
from db.audit_chain import ChainReport
from db.commands import Actor, Command
from db.handlers import CommandHandlers
from db.engine import ping
from db.errors import DomainError
from db.kernel import Kernel
from db.observe import LedgerObserver, notify, notify_expired
from db.unit_of_work import UnitOfWork
from ledger import queries
from ledger.commands import (
    CreateEmployment,
    DeactivateCard,
    IssueCard,
    PostReport,
    ReactivateCard,
    RecordControl,
    RegisterEmployer,
    ReportWage,
    ReverseReport,
    SetCap,
    TransferCard,
    VerifyEmployer,
    VoidReport,
)
from ledger.results import (
    Balance,
    CapResult,
    CardResult,
    EmployerResult,
    EmploymentResult,
    WageReportResult,
)
from ledger.handlers import ledger_handlers
from ledger import reads
from ledger.service import report_batch, reports
from ledger.service.balances import lock_balance

log = logging.getLogger(__name__)
R = TypeVar("R")
MAX_ATTEMPTS = 8


class Ledger:
    """The single source of truth for money: one method per command, on the shared kernel.

    Built once per process in the composition root (`api.bootstrap.Backend`), beside the other
    domain services; it knows none of them."""

    def __init__(self, kernel: Kernel, handlers: CommandHandlers | None = None) -> None:
        self.kernel = kernel
        self.config = kernel.config
        self.handlers: CommandHandlers = ledger_handlers() if handlers is None else handlers
        """The command registry: the ledger's commands, and in the composition root every
        other domain's too. The same registry goes to the conversations, so a turn runs a
        command the way this facade does."""

    @property
    def observer(self) -> LedgerObserver:
        """Told about committed commands and refusals (the api counts them for /metrics)."""
        return self.kernel.observer

    @observer.setter
    def observer(self, observer: LedgerObserver) -> None:
        self.kernel.observer = observer

    def close(self) -> None:
        self.kernel.close()

    def _uow(self, *, write: bool) -> UnitOfWork:
        return self.kernel.unit_of_work(write=write)

    def run_write(self, work: Callable[[UnitOfWork], R]) -> R:
        """Runs `work` in a write transaction, retried whole (`Kernel.run_write`)."""
        return self.kernel.run_write(work)

    def run_read(self, work: Callable[[UnitOfWork], R]) -> R:
        return self.kernel.run_read(work)

    def execute(self, cmd: Command[R], *, actor: Actor) -> R:
        """Runs any registered command in a unit of work of its own (retried whole), and
        tells the observer how it went; the named methods below are this, typed."""
        try:
            result = self.run_write(lambda uow: self.handlers.handle(cmd, uow, actor))
        except DomainError as error:
            notify(self.observer, [(type(cmd).__name__, error)])
            raise
        notify(self.observer, [(type(cmd).__name__, result)])
        return result

    # Commands ------------------------------------------------------------------------

    def set_cap(self, cmd: SetCap, *, actor: Actor) -> CapResult:
        return self.execute(cmd, actor=actor)

    def register_employer(self, cmd: RegisterEmployer, *, actor: Actor) -> EmployerResult:
        return self.execute(cmd, actor=actor)

    def verify_employer(self, cmd: VerifyEmployer, *, actor: Actor) -> EmployerResult:
        return self.execute(cmd, actor=actor)

    def issue_card(self, cmd: IssueCard, *, actor: Actor) -> CardResult:
        return self.execute(cmd, actor=actor)

    def deactivate_card(self, cmd: DeactivateCard, *, actor: Actor) -> CardResult:
        return self.execute(cmd, actor=actor)

    def reactivate_card(self, cmd: ReactivateCard, *, actor: Actor) -> CardResult:
        return self.execute(cmd, actor=actor)

    def transfer_card(self, cmd: TransferCard, *, actor: Actor) -> CardResult:
        return self.execute(cmd, actor=actor)

    def record_control(self, cmd: RecordControl, *, actor: Actor) -> CardResult:
        return self.execute(cmd, actor=actor)

    def create_employment(self, cmd: CreateEmployment, *, actor: Actor) -> EmploymentResult:
        return self.execute(cmd, actor=actor)

    def report_wage(self, cmd: ReportWage, *, actor: Actor) -> WageReportResult:
        return self.execute(cmd, actor=actor)

    def report_wages(self, cmds: Sequence[ReportWage], *,
                     actor: Actor) -> list[report_batch.Outcome]:
        """Many reports, each on the single path (ledger/service/report_batch.py): one
        outcome per command in the same order, a result or the refusal that left it out."""
        outcomes: list[report_batch.Outcome | None] = [None] * len(cmds)
        for chunk in report_batch.chunks(report_batch.lock_order(cmds)):
            batch = [cmds[i] for i in chunk]
            done = self.run_write(  # run at once, within this iteration
                lambda uow: report_batch.report_chunk(batch, uow=uow, actor=actor))  # noqa: B023
            notify(self.observer, [("ReportWage", outcome) for outcome in done])
            for index, outcome in zip(chunk, done, strict=True):
                outcomes[index] = outcome
        return [outcome for outcome in outcomes if outcome is not None]

    def post_report(self, cmd: PostReport, *, actor: Actor) -> WageReportResult:
        return self.execute(cmd, actor=actor)

    def void_report(self, cmd: VoidReport, *, actor: Actor) -> WageReportResult:
        return self.execute(cmd, actor=actor)

    def reverse_report(self, cmd: ReverseReport, *, actor: Actor) -> WageReportResult:
        return self.execute(cmd, actor=actor)

    def expire_due(self, *, actor: Actor) -> int:
        """Frees every reservation past its expiry; run periodically by the server."""
        total = 0
        with self._uow(write=False) as uow:
            keys = queries.balances_with_due_reservations(
                uow.session, uow.now, reports.reservation_due_cutoff(uow))
        for card_id, year in keys:
            with self._uow(write=True) as uow:
                balance = lock_balance(uow.session, card_id, year)
                total += reports.expire_due_for_balance(uow, balance, actor)
                uow.commit()
        if total:
            notify_expired(self.observer, total)
        return total

    # Queries -------------------------------------------------------------------------

    def balance(self, card_number: str, year: int | None = None) -> Balance:
        return self.run_read(lambda uow: reads.balance(uow, card_number, year))

    def card(self, number: str) -> CardResult:
        return self.run_read(lambda uow: reads.card(uow, number))

    def report(self, report_id: int) -> WageReportResult:
        return self.run_read(lambda uow: reads.report(uow, report_id))

    def caps(self) -> list[CapResult]:
        return self.run_read(reads.caps)

    def export_wage_reports(self, municipality_code: str, year: int) -> Iterator[queries.ExportRow]:
        """Streams rows in report order; the read transaction stays open while iterating."""
        with self._uow(write=False) as uow:
            yield from queries.export_wage_reports(uow.session, municipality_code, year)

    def usage_stats(self, year: int) -> list[queries.UsageRow]:
        with self._uow(write=False) as uow:
            return queries.usage_stats(uow.session, year)

    def ping(self) -> None:
        """One round trip to the database, for the readiness probe; raises while it is down."""
        self.run_read(lambda uow: ping(uow.session))

    def verify_audit_chain(self) -> ChainReport:
        """Walks the audit log's hash chain; the first row that does not fit, if any."""
        return self.run_read(lambda uow: audit_chain.verify(uow.session.connection()))

    def check_invariants(self) -> list[str]:
        """Every way the materialised balances disagree with the entries (empty when sound)."""
        with self._uow(write=False) as uow:
            return queries.invariant_violations(uow.session)
