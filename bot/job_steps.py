"""What the dialogue does with small jobs inside a conversation turn.

Each change is a command run through `Turn.execute` and the one registry
(`smalljobs/handlers.py`), in a savepoint, as a ledger command is; each read through
`Turn.within`, in the turn's own transaction. The turn itself knows no small jobs: this is
where the dialogue meets `smalljobs`.
"""

from __future__ import annotations

from decimal import Decimal

from conversations.turn import Turn
from db.commands import Actor
from ledger.results import WageReportResult
from smalljobs import digests, hours, matching, taking
from smalljobs.commands import (
    CancelAssignment,
    CancelTask,
    ConfirmAssignment,
    MarkNoShow,
    PostTask,
    RecordTaskHours,
    SubscribeDigest,
    TakeTask,
    UnsubscribeDigest,
)
from smalljobs.records import AssignmentView, CancelledBy, DigestView, Frequency, TaskView, Via


class JobSteps:
    """The small-job commands and reads of one turn."""

    def __init__(self, turn: Turn) -> None:
        self._turn = turn

    def post_task(self, cmd: PostTask, actor: Actor) -> TaskView:
        return self._turn.execute(cmd, actor)

    def cancel_task(self, task_id: int, *, employer_cvr: str, actor: Actor) -> TaskView:
        return self._turn.execute(CancelTask(task_id=task_id, employer_cvr=employer_cvr), actor)

    def tasks_for_card(self, card_number: str, *, postcode: str | None = None,
                       limit: int = 3) -> list[TaskView]:
        return self._turn.within(lambda uow: matching.tasks_for_card(
            uow, card_number, postcode=postcode, limit=limit))

    def task(self, task_id: int) -> TaskView:
        return self._turn.within(lambda uow: matching.task(uow, task_id))

    def take_task(self, task_id: int, card_number: str, *, via: Via,
                  actor: Actor) -> AssignmentView:
        return self._turn.execute(TakeTask(task_id=task_id, card_number=card_number, via=via),
                                  actor)

    def confirm_assignment(self, assignment_id: int, *, employer_cvr: str,
                           actor: Actor) -> AssignmentView:
        return self._turn.execute(ConfirmAssignment(assignment_id=assignment_id,
                                                    employer_cvr=employer_cvr), actor)

    def cancel_assignment(self, assignment_id: int, *, by: CancelledBy, actor: Actor,
                          employer_cvr: str | None = None,
                          card_number: str | None = None) -> AssignmentView:
        """`employer_cvr` / `card_number`: the assignment must be theirs (else not found)."""
        return self._turn.execute(CancelAssignment(
            assignment_id=assignment_id, by=by, employer_cvr=employer_cvr,
            card_number=card_number), actor)

    def mark_no_show(self, assignment_id: int, *, employer_cvr: str,
                     actor: Actor) -> AssignmentView:
        return self._turn.execute(MarkNoShow(assignment_id=assignment_id,
                                             employer_cvr=employer_cvr), actor)

    def assignments_for_card(self, card_number: str) -> list[AssignmentView]:
        """The holder's reserved and confirmed places, soonest first."""
        return self._turn.within(lambda uow: taking.assignments_for_card(uow, card_number))

    def assignments_for_employer(self, employer_cvr: str) -> list[AssignmentView]:
        """The reserved and confirmed places on the employer's tasks, soonest first."""
        return self._turn.within(lambda uow: taking.assignments_for_employer(uow, employer_cvr))

    def pending_hour_prompts(self, employer_cvr: str) -> list[AssignmentView]:
        return self._turn.within(lambda uow: hours.pending_hour_prompts(uow, employer_cvr))

    def pending_prompt_cards(self, employer_cvr: str) -> list[str]:
        """The cards of those prompts only: whether a message may answer one."""
        return self._turn.within(lambda uow: hours.pending_prompt_cards(uow, employer_cvr))

    def record_task_hours(self, assignment_id: int, *, employer_cvr: str, worked: Decimal,
                          amount_ore: int, actor: Actor,
                          idempotency_key: str) -> WageReportResult:
        return self._turn.execute(RecordTaskHours(
            assignment_id=assignment_id, employer_cvr=employer_cvr, hours=worked,
            amount_ore=amount_ore, idempotency_key=idempotency_key), actor)

    def subscribe_digest(self, card_number: str, postcode: str, frequency: Frequency,
                         actor: Actor) -> DigestView:
        return self._turn.execute(SubscribeDigest(card_number=card_number, postcode=postcode,
                                                  frequency=frequency), actor)

    def unsubscribe_digest(self, card_number: str, actor: Actor) -> bool:
        return self._turn.execute(UnsubscribeDigest(card_number=card_number), actor)

    def digest(self, card_number: str) -> DigestView | None:
        return self._turn.remembered(("digest", card_number),
                                     lambda uow: digests.digest(uow, card_number))
