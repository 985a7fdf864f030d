"""`TaskService`: small jobs, reached as `backend.tasks` (api.bootstrap.Backend).

Each method is one transaction through the ledger's unit of work and calls the module-level
function of the same name (`posting`, `matching`, `taking`, `hours`, `digests`, `people`,
`stats`), which takes a `uow` first: the bot runs those inside a conversation turn (in a
savepoint), everything else goes through these methods. Refusals are `DomainError`s with
stable codes and Danish messages; a refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from db.commands import Actor
from db.observe import TaskEvent, notify_tasks, take_task_events
from db.part import KernelPart
from db.unit_of_work import UnitOfWork
from ledger.results import WageReportResult
from smalljobs import digests, matching, people, posting, stats, taking
from smalljobs import hours as hours_module
from smalljobs.commands import PostTask
from smalljobs.records import (
    AssignmentView,
    CancelledBy,
    DigestView,
    Frequency,
    KnownPerson,
    PhoneListEntry,
    TaskStats,
    TaskView,
    Via,
)
from staff.principal import StaffPrincipal

R = TypeVar("R")


class TaskService(KernelPart):
    """Employers post small tasks, card holders (or their helpers) take them, hours are paid."""

    def _write(self, work: Callable[[UnitOfWork], R]) -> R:
        """As `KernelPart._write`; then tells `Kernel.observer` what the committed work did."""
        def run(uow: UnitOfWork) -> tuple[R, list[TaskEvent]]:
            return work(uow), take_task_events(uow.session)
        result, events = super()._write(run)
        notify_tasks(self._kernel.observer, events)
        return result

    # Posting and the employer's side -------------------------------------------------------

    def post_task(self, cmd: PostTask, actor: Actor) -> TaskView:
        return self._write(lambda uow: posting.post_task(uow, cmd, actor))

    def cancel_task(self, task_id: int, *, employer_cvr: str | None, actor: Actor) -> TaskView:
        """`employer_cvr` None: staff cancel (the console), scoped by the caller."""
        return self._write(lambda uow: posting.cancel_task(uow, task_id, employer_cvr=employer_cvr,
                                                           actor=actor))

    def expire_tasks(self, now: dt.datetime | None = None) -> int:
        return self._write(lambda uow: posting.expire_tasks(uow, now))

    def task(self, task_id: int) -> TaskView:
        return self._read(lambda uow: matching.task(uow, task_id))

    def tasks_for_employer(self, cvr: str, active_only: bool = True) -> list[TaskView]:
        return self._read(lambda uow: matching.tasks_for_employer(uow, cvr, active_only))

    # Finding and taking ------------------------------------------------------------------

    def tasks_for_card(self, card_number: str, *, postcode: str | None = None,
                       limit: int = 3) -> list[TaskView]:
        return self._read(lambda uow: matching.tasks_for_card(uow, card_number,
                                                              postcode=postcode, limit=limit))

    def take_task(self, task_id: int, card_number: str, *, via: Via, actor: Actor,
                  helper: str | None = None, consent_note: str | None = None) -> AssignmentView:
        return self._write(lambda uow: taking.take_task(
            uow, task_id, card_number, via=via, actor=actor, helper=helper,
            consent_note=consent_note))

    def confirm_assignment(self, assignment_id: int, *, employer_cvr: str,
                           actor: Actor) -> AssignmentView:
        return self._write(lambda uow: taking.confirm_assignment(
            uow, assignment_id, employer_cvr=employer_cvr, actor=actor))

    def cancel_assignment(self, assignment_id: int, *, by: CancelledBy, actor: Actor,
                          reason: str = "", employer_cvr: str | None = None,
                          card_number: str | None = None) -> AssignmentView:
        """`employer_cvr` / `card_number`: when given, the assignment must be theirs."""
        return self._write(lambda uow: taking.cancel_assignment(
            uow, assignment_id, by=by, actor=actor, reason=reason, employer_cvr=employer_cvr,
            card_number=card_number))

    def mark_no_show(self, assignment_id: int, *, employer_cvr: str,
                     actor: Actor) -> AssignmentView:
        return self._write(lambda uow: taking.mark_no_show(
            uow, assignment_id, employer_cvr=employer_cvr, actor=actor))

    def assignment(self, assignment_id: int) -> AssignmentView:
        return self._read(lambda uow: taking.assignment(uow, assignment_id))

    def assignments_for_card(self, card_number: str,
                             active_only: bool = True) -> list[AssignmentView]:
        return self._read(lambda uow: taking.assignments_for_card(uow, card_number, active_only))

    def assignments_for_employer(self, cvr: str, active_only: bool = True) -> list[AssignmentView]:
        return self._read(lambda uow: taking.assignments_for_employer(uow, cvr, active_only))

    def assignments_for_task(self, task_id: int,
                             active_only: bool = False) -> list[AssignmentView]:
        """Holds first names and Frikort-IDs: for the task's employer and staff only."""
        return self._read(lambda uow: taking.assignments_for_task(uow, task_id, active_only))

    # After the work ------------------------------------------------------------------------

    def send_hour_prompts(self, now: dt.datetime | None = None) -> int:
        return self._write(lambda uow: hours_module.send_hour_prompts(uow, now))

    def pending_hour_prompts(self, employer_cvr: str) -> list[AssignmentView]:
        return self._read(lambda uow: hours_module.pending_hour_prompts(uow, employer_cvr))

    def record_task_hours(self, assignment_id: int, *, employer_cvr: str, hours: Decimal,
                          amount_ore: int, actor: Actor,
                          idempotency_key: str) -> WageReportResult:
        worked = hours
        return self._write(lambda uow: hours_module.record_task_hours(
            uow, assignment_id, employer_cvr=employer_cvr, hours=worked, amount_ore=amount_ore,
            actor=actor, idempotency_key=idempotency_key))

    # Digests -------------------------------------------------------------------------------

    def subscribe_digest(self, card_number: str, postcode: str, frequency: Frequency,
                         actor: Actor | None = None) -> DigestView:
        return self._write(lambda uow: digests.subscribe_digest(uow, card_number, postcode,
                                                                frequency, actor))

    def unsubscribe_digest(self, card_number: str, actor: Actor | None = None) -> bool:
        """True when there was a subscription to end."""
        return self._write(lambda uow: digests.unsubscribe_digest(uow, card_number, actor))

    def digest(self, card_number: str) -> DigestView | None:
        return self._read(lambda uow: digests.digest(uow, card_number))

    def send_due_digests(self, now: dt.datetime | None = None) -> int:
        return self._write(lambda uow: digests.send_due_digests(uow, now))

    # The employer's own list and helpers' phone lists -------------------------------------

    def add_known_person(self, employer_cvr: str, card_number: str,
                         actor: Actor) -> KnownPerson:
        return self._write(lambda uow: people.add_known_person(uow, employer_cvr, card_number,
                                                               actor))

    def remove_known_person(self, employer_cvr: str, card_number: str, actor: Actor) -> bool:
        return self._write(lambda uow: people.remove_known_person(uow, employer_cvr,
                                                                  card_number, actor))

    def known_people(self, employer_cvr: str) -> list[KnownPerson]:
        return self._read(lambda uow: people.known_people(uow, employer_cvr))

    def add_to_phone_list(self, principal: StaffPrincipal, card_number: str,
                          consent_note: str) -> PhoneListEntry:
        return self._write(lambda uow: people.add_to_phone_list(uow, principal, card_number,
                                                                consent_note))

    def phone_list(self, principal: StaffPrincipal) -> list[PhoneListEntry]:
        return self._read(lambda uow: people.phone_list(uow, principal))

    def remove_from_phone_list(self, principal: StaffPrincipal, entry_id: int) -> None:
        self._write(lambda uow: people.remove_from_phone_list(uow, principal, entry_id))

    # Console -------------------------------------------------------------------------------

    def tasks_overview(self, principal: StaffPrincipal,
                       status: str | None = None) -> list[TaskView]:
        return self._read(lambda uow: stats.tasks_overview(uow, principal, status))

    def task_stats(self, principal: StaffPrincipal, since: dt.date) -> TaskStats:
        return self._read(lambda uow: stats.task_stats(uow, principal, since))

    def printable_open_tasks(self, municipality_code: str) -> list[TaskView]:
        return self._read(lambda uow: stats.printable_open_tasks(uow, municipality_code))
