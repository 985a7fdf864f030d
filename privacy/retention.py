"""Retention: conversation texts older than the configured period are anonymised in place.

What is anonymised (the row stays, so counts, times, intents and the delivery history remain):

* transcript messages created before the cut-off: the text becomes "[slettet]", and the
  replies kept for de-duplicating provider retries are emptied;
* outbox messages created before the cut-off that were sent or given up ("dead"): the text,
  the buttons and the provider's last error (which may quote the number) are cleared;
  messages still waiting to be delivered are left alone;
* the state of conversations inactive since before the cut-off (a flow left half-way, which
  may hold a name or an encrypted CPR number);
* the free-text answers (benefit, job wishes, contact, helper, address) of applications
  decided before the cut-off. Undecided applications are never touched;
* the consent note a helper wrote on a place on a task (the only personal free text of the
  small-job tables), once the place ended (cancelled, no-show, done) before the cut-off.
  A helper's phone list keeps its consent notes while the person is on it: they are why
  the helper may sign the person up. Task texts are the employer's public notice.

What is never touched: wage reports, ledger entries, balances, cards and their events,
employments, idempotency records and the audit log (append-only, enforced by triggers), nor
citizens, contacts, escalations and caseworkers' notes (see the README: "Metrics, logs and
data protection").

Idempotent: a second run over the same data changes nothing. Work is done in batches, each
its own short transaction, so a first run on a large database does not hold locks for long.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import Case, ColumnElement, and_, case, func, not_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.commands import Actor
from db.conversation_tables import CardApplication, Conversation, OutboxMessage, TranscriptMessage
from db.kernel import Kernel
from db.task_tables import TaskAssignment
from db.unit_of_work import UnitOfWork
from privacy.scope import ERASED

BATCH = 500
FREE_TEXT_ANSWERS = ("benefit", "job_wishes", "contact", "helper", "address")
"""Application answers a person wrote in their own words (or their number)."""
ANONYMISED_MARK = '"anonymised": true'
EMPTY_REPLIES = "[]"
ENDED = ("cancelled", "no_show", "done")
"""Places on a task that are over: nobody acts on their consent note again."""


@dataclass(frozen=True)
class RetentionReport:
    cutoff: dt.datetime
    dry_run: bool
    transcript_messages: int = 0
    outbox_messages: int = 0
    conversation_states: int = 0
    applications: int = 0
    task_consent_notes: int = 0

    @property
    def total(self) -> int:
        return (self.transcript_messages + self.outbox_messages + self.conversation_states
                + self.applications + self.task_consent_notes)

    def as_dict(self) -> dict[str, object]:
        values = asdict(self)
        values["cutoff"] = self.cutoff.isoformat()
        values["total"] = self.total
        return values


def anonymised_answers(answers: dict[str, object]) -> dict[str, object]:
    """The answers with every free-text value replaced; consent and channel are kept."""
    kept = {key: (ERASED if key in FREE_TEXT_ANSWERS and value not in (None, "", []) else value)
            for key, value in answers.items()}
    kept["anonymised"] = True
    return kept


# Which rows are due ------------------------------------------------------------------------


def _transcript_due(cutoff: dt.datetime) -> ColumnElement[bool]:
    return and_(TranscriptMessage.created_at < cutoff, or_(
        TranscriptMessage.text != ERASED,
        and_(TranscriptMessage.replies_json.is_not(None),
             TranscriptMessage.replies_json != EMPTY_REPLIES)))


def _outbox_due(cutoff: dt.datetime) -> ColumnElement[bool]:
    return and_(OutboxMessage.created_at < cutoff, OutboxMessage.status.in_(("sent", "dead")),
                or_(OutboxMessage.text != ERASED, OutboxMessage.last_error != "",
                    OutboxMessage.buttons_json != EMPTY_REPLIES))


def _state_due(cutoff: dt.datetime) -> ColumnElement[bool]:
    return and_(Conversation.last_activity_at < cutoff, Conversation.state_json != "{}")


def _applications_due(cutoff: dt.datetime) -> ColumnElement[bool]:
    return and_(CardApplication.status.in_(("approved", "rejected")),
                CardApplication.decided_at < cutoff,
                not_(CardApplication.answers_json.contains(ANONYMISED_MARK)))


def _consent_due(cutoff: dt.datetime) -> ColumnElement[bool]:
    return and_(TaskAssignment.status.in_(ENDED), TaskAssignment.ended_at < cutoff,
                TaskAssignment.consent_note.is_not(None), TaskAssignment.consent_note != ERASED)


def _count(session: Session, table: type, condition: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(condition)) or 0)


# Running it ----------------------------------------------------------------------------------


def run_retention(
    kernel: Kernel, *, older_than_days: int, actor: Actor, dry_run: bool = False,
) -> RetentionReport:
    """Anonymises what is older than `older_than_days` (by the ledger's clock); reports counts."""
    if older_than_days < 1:
        raise ValueError("the retention period must be at least one day")
    cutoff = kernel.run_read(lambda uow: uow.now) - dt.timedelta(days=older_than_days)
    if dry_run:
        return kernel.run_read(lambda uow: RetentionReport(
            cutoff=cutoff, dry_run=True,
            transcript_messages=_count(uow.session, TranscriptMessage, _transcript_due(cutoff)),
            outbox_messages=_count(uow.session, OutboxMessage, _outbox_due(cutoff)),
            conversation_states=_count(uow.session, Conversation, _state_due(cutoff)),
            applications=_count(uow.session, CardApplication, _applications_due(cutoff)),
            task_consent_notes=_count(uow.session, TaskAssignment, _consent_due(cutoff))))
    report = RetentionReport(
        cutoff=cutoff, dry_run=False,
        transcript_messages=_in_batches(kernel, lambda uow: _transcript_batch(uow, cutoff)),
        outbox_messages=_in_batches(kernel, lambda uow: _outbox_batch(uow, cutoff)),
        conversation_states=_in_batches(kernel, lambda uow: _state_batch(uow, cutoff)),
        applications=_in_batches(kernel, lambda uow: _application_batch(uow, cutoff)),
        task_consent_notes=_in_batches(kernel, lambda uow: _consent_batch(uow, cutoff)))
    if report.total:
        def record(uow: UnitOfWork) -> None:
            counts = {k: v for k, v in report.as_dict().items() if k not in ("cutoff", "dry_run")}
            uow.audit(actor, "retention.run", "retention", cutoff.date().isoformat(), **counts)
            uow.commit()
        kernel.run_write(record)
    return report


def _in_batches(kernel: Kernel, batch: Callable[[UnitOfWork], int]) -> int:
    total = 0
    while True:
        done = kernel.run_write(batch)
        total += done
        if done < BATCH:
            return total


def _ids(session: Session, column: InstrumentedAttribute[int],
         condition: ColumnElement[bool]) -> list[int]:
    return list(session.scalars(select(column).where(condition).order_by(column).limit(BATCH)))


def _transcript_batch(uow: UnitOfWork, cutoff: dt.datetime) -> int:
    ids = _ids(uow.session, TranscriptMessage.id, _transcript_due(cutoff))
    if ids:
        uow.session.execute(
            update(TranscriptMessage).where(TranscriptMessage.id.in_(ids))
            .values(text=ERASED, replies_json=_emptied(TranscriptMessage.replies_json)),
            execution_options={"synchronize_session": False})
    uow.commit()
    return len(ids)


def _emptied(column: InstrumentedAttribute[str | None]) -> Case[str | None]:
    """NULL stays NULL (an outbound message has no replies); anything else becomes '[]'."""
    return case((column.is_(None), None), else_=EMPTY_REPLIES)


def _outbox_batch(uow: UnitOfWork, cutoff: dt.datetime) -> int:
    ids = _ids(uow.session, OutboxMessage.id, _outbox_due(cutoff))
    if ids:
        uow.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids))
            .values(text=ERASED, buttons_json=EMPTY_REPLIES, last_error=""),
            execution_options={"synchronize_session": False})
    uow.commit()
    return len(ids)


def _state_batch(uow: UnitOfWork, cutoff: dt.datetime) -> int:
    ids = _ids(uow.session, Conversation.id, _state_due(cutoff))
    if ids:
        # Only conversations still idle: a sender writing right now keeps their flow.
        uow.session.execute(
            update(Conversation)
            .where(Conversation.id.in_(ids), Conversation.last_activity_at < cutoff)
            .values(state_json="{}"),
            execution_options={"synchronize_session": False})
    uow.commit()
    return len(ids)


def _application_batch(uow: UnitOfWork, cutoff: dt.datetime) -> int:
    rows = list(uow.session.scalars(
        select(CardApplication).where(_applications_due(cutoff))
        .order_by(CardApplication.id).limit(BATCH)))
    for application in rows:
        application.answers_json = json.dumps(
            anonymised_answers(_loads(application.answers_json)), ensure_ascii=False)
    uow.commit()
    return len(rows)


def _consent_batch(uow: UnitOfWork, cutoff: dt.datetime) -> int:
    ids = _ids(uow.session, TaskAssignment.id, _consent_due(cutoff))
    if ids:
        # Only places still ended: one taken again meanwhile holds a new consent note.
        uow.session.execute(
            update(TaskAssignment).where(TaskAssignment.id.in_(ids), _consent_due(cutoff))
            .values(consent_note=ERASED),
            execution_options={"synchronize_session": False})
    uow.commit()
    return len(ids)


def _loads(text: str | None) -> dict[str, object]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
