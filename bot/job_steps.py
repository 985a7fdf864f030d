"""What the dialogue does with small jobs inside a conversation turn.

Each change runs through `Turn.run` (a savepoint, counted for the observer like a ledger
command); each read through `Turn.within`, in the turn's own transaction. The turn itself knows
no small jobs: this is where the dialogue meets `smalljobs`.
"""

from __future__ import annotations

from decimal import Decimal

from conversations.turn import Turn
from db.commands import Actor
from ledger.results import WageReportResult
from smalljobs import digests, hours, matching, posting, taking
from smalljobs.commands import PostTask
from smalljobs.records import AssignmentView, CancelledBy, DigestView, Frequency, TaskView, Via


class JobSteps:
    """The small-job commands and reads of one turn."""

    def __init__(self, turn: Turn) -> None:
        self._turn = turn

    def post_task(self, cmd: PostTask, actor: Actor) -> TaskView:
        return self._turn.run("PostTask", lambda uow: posting.post_task(uow, cmd, actor))

    def cancel_task(self, task_id: int, *, employer_cvr: str, actor: Actor) -> TaskView:
        return self._turn.run("CancelTask", lambda uow: posting.cancel_task(
            uow, task_id, employer_cvr=employer_cvr, actor=actor))

    def tasks_for_card(self, card_number: str, *, postcode: str | None = None,
                       limit: int = 3) -> list[TaskView]:
        return self._turn.within(lambda uow: matching.tasks_for_card(
            uow, card_number, postcode=postcode, limit=limit))

    def task(self, task_id: int) -> TaskView:
        return self._turn.within(lambda uow: matching.task(uow, task_id))

    def take_task(self, task_id: int, card_number: str, *, via: Via,
                  actor: Actor) -> AssignmentView:
        return self._turn.run("TakeTask", lambda uow: taking.take_task(
            uow, task_id, card_number, via=via, actor=actor))

    def confirm_assignment(self, assignment_id: int, *, employer_cvr: str,
                           actor: Actor) -> AssignmentView:
        return self._turn.run("ConfirmAssignment", lambda uow: taking.confirm_assignment(
            uow, assignment_id, employer_cvr=employer_cvr, actor=actor))

    def cancel_assignment(self, assignment_id: int, *, by: CancelledBy, actor: Actor,
                          employer_cvr: str | None = None,
                          card_number: str | None = None) -> AssignmentView:
        """`employer_cvr` / `card_number`: the assignment must be theirs (else not found)."""
        return self._turn.run("CancelAssignment", lambda uow: taking.cancel_assignment(
            uow, assignment_id, by=by, actor=actor, employer_cvr=employer_cvr,
            card_number=card_number))

    def mark_no_show(self, assignment_id: int, *, employer_cvr: str,
                     actor: Actor) -> AssignmentView:
        return self._turn.run("MarkNoShow", lambda uow: taking.mark_no_show(
            uow, assignment_id, employer_cvr=employer_cvr, actor=actor))

    def assignments_for_card(self, card_number: str) -> list[AssignmentView]:
        """The holder's reserved and confirmed places, soonest first."""
        return self._turn.within(lambda uow: taking.assignments_for_card(uow, card_number))

    def assignments_for_employer(self, employer_cvr: str) -> list[AssignmentView]:
        """The reserved and confirmed places on the employer's tasks, soonest first."""
        return self._turn.within(lambda uow: taking.assignments_for_employer(uow, employer_cvr))

    def pending_hour_prompts(self, employer_cvr: str) -> list[AssignmentView]:
        return self._turn.within(lambda uow: hours.pending_hour_prompts(uow, employer_cvr))

    def record_task_hours(self, assignment_id: int, *, employer_cvr: str, worked: Decimal,
                          amount_ore: int, actor: Actor,
                          idempotency_key: str) -> WageReportResult:
        return self._turn.run("RecordTaskHours", lambda uow: hours.record_task_hours(
            uow, assignment_id, employer_cvr=employer_cvr, hours=worked, amount_ore=amount_ore,
            actor=actor, idempotency_key=idempotency_key))

    def subscribe_digest(self, card_number: str, postcode: str, frequency: Frequency,
                         actor: Actor) -> DigestView:
        return self._turn.run("SubscribeDigest", lambda uow: digests.subscribe_digest(
            uow, card_number, postcode, frequency, actor))

    def unsubscribe_digest(self, card_number: str, actor: Actor) -> bool:
        return self._turn.run("UnsubscribeDigest", lambda uow: digests.unsubscribe_digest(
            uow, card_number, actor))

    def digest(self, card_number: str) -> DigestView | None:
        return self._turn.within(lambda uow: digests.digest(uow, card_number))
