"""The small-job commands and their handlers, in the one command registry (`db/handlers.py`).

The domain functions take their arguments one by one; each handler here unpacks its command,
so the dialogue runs a small-job change exactly as it runs a ledger command (`Turn.execute`).
"""

from __future__ import annotations

from db.commands import Actor
from db.handlers import CommandHandlers
from db.unit_of_work import UnitOfWork
from ledger.results import WageReportResult
from smalljobs import digests, hours, posting, taking
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
from smalljobs.records import AssignmentView, DigestView, TaskView


def smalljobs_handlers(into: CommandHandlers | None = None) -> CommandHandlers:
    """Registers every small-job command (in `into`, or a new registry) and returns it."""
    handlers = into if into is not None else CommandHandlers()
    handlers.add(PostTask, _post_task)
    handlers.add(CancelTask, _cancel_task)
    handlers.add(TakeTask, _take_task)
    handlers.add(ConfirmAssignment, _confirm_assignment)
    handlers.add(CancelAssignment, _cancel_assignment)
    handlers.add(MarkNoShow, _mark_no_show)
    handlers.add(RecordTaskHours, _record_task_hours)
    handlers.add(SubscribeDigest, _subscribe_digest)
    handlers.add(UnsubscribeDigest, _unsubscribe_digest)
    return handlers


def _post_task(cmd: PostTask, /, *, uow: UnitOfWork, actor: Actor) -> TaskView:
    return posting.post_task(uow, cmd, actor)


def _cancel_task(cmd: CancelTask, /, *, uow: UnitOfWork, actor: Actor) -> TaskView:
    return posting.cancel_task(uow, cmd.task_id, employer_cvr=cmd.employer_cvr, actor=actor)


def _take_task(cmd: TakeTask, /, *, uow: UnitOfWork, actor: Actor) -> AssignmentView:
    return taking.take_task(uow, cmd.task_id, cmd.card_number, via=cmd.via, actor=actor,
                            helper=cmd.helper, consent_note=cmd.consent_note)


def _confirm_assignment(cmd: ConfirmAssignment, /, *, uow: UnitOfWork,
                        actor: Actor) -> AssignmentView:
    return taking.confirm_assignment(uow, cmd.assignment_id, employer_cvr=cmd.employer_cvr,
                                     actor=actor)


def _cancel_assignment(cmd: CancelAssignment, /, *, uow: UnitOfWork,
                       actor: Actor) -> AssignmentView:
    return taking.cancel_assignment(uow, cmd.assignment_id, by=cmd.by, actor=actor,
                                    reason=cmd.reason, employer_cvr=cmd.employer_cvr,
                                    card_number=cmd.card_number)


def _mark_no_show(cmd: MarkNoShow, /, *, uow: UnitOfWork, actor: Actor) -> AssignmentView:
    return taking.mark_no_show(uow, cmd.assignment_id, employer_cvr=cmd.employer_cvr,
                               actor=actor)


def _record_task_hours(cmd: RecordTaskHours, /, *, uow: UnitOfWork,
                       actor: Actor) -> WageReportResult:
    return hours.record_task_hours(uow, cmd.assignment_id, employer_cvr=cmd.employer_cvr,
                                   hours=cmd.hours, amount_ore=cmd.amount_ore, actor=actor,
                                   idempotency_key=cmd.idempotency_key)


def _subscribe_digest(cmd: SubscribeDigest, /, *, uow: UnitOfWork, actor: Actor) -> DigestView:
    return digests.subscribe_digest(uow, cmd.card_number, cmd.postcode, cmd.frequency, actor)


def _unsubscribe_digest(cmd: UnsubscribeDigest, /, *, uow: UnitOfWork, actor: Actor) -> bool:
    return digests.unsubscribe_digest(uow, cmd.card_number, actor)
