"""Queue figures for /metrics, read at scrape time: escalations waiting, the outbox's backlog.

Two small aggregate queries on indexed columns (escalations by status, outbox by status), so a
scrape costs a few milliseconds however large the history grows. Sent outbox messages are
not counted: that table only grows, and the delivery counters cover it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from db.conversation_tables import Escalation, OutboxMessage
from db.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class QueueSnapshot:
    at: dt.datetime
    escalations_waiting: dict[bool, int] = field(default_factory=dict)
    """Waiting for a person, by urgency (True: urgent)."""
    oldest_waiting_escalation: dt.datetime | None = None
    escalations_taken: int = 0
    outbox: dict[str, int] = field(default_factory=dict)
    """Messages not yet sent, by status: 'pending' and 'dead'."""
    oldest_pending_outbox: dt.datetime | None = None

    def age_seconds(self, since: dt.datetime | None) -> float:
        return max(0.0, (self.at - since).total_seconds()) if since is not None else 0.0


def queue_snapshot(uow: UnitOfWork) -> QueueSnapshot:
    session = uow.session
    waiting: dict[bool, int] = {False: 0, True: 0}
    oldest: dt.datetime | None = None
    taken = 0
    rows = session.execute(
        select(Escalation.status, Escalation.urgent, func.count(), func.min(Escalation.created_at))
        .where(Escalation.status.in_(("waiting", "taken")))
        .group_by(Escalation.status, Escalation.urgent)).all()
    for status, urgent, count, first in rows:
        if status == "taken":
            taken += int(count)
            continue
        waiting[bool(urgent)] += int(count)
        first = _aware(first)
        oldest = first if oldest is None or (first and first < oldest) else oldest
    outbox = {"pending": 0, "dead": 0}
    oldest_outbox: dt.datetime | None = None
    for status, count, first in session.execute(
        select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_(("pending", "dead")))
        .group_by(OutboxMessage.status)).all():
        outbox[str(status)] = int(count)
        if status == "pending":
            oldest_outbox = _aware(first)
    return QueueSnapshot(at=uow.now, escalations_waiting=waiting,
                         oldest_waiting_escalation=oldest, escalations_taken=taken,
                         outbox=outbox, oldest_pending_outbox=oldest_outbox)


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """min() over a UtcDateTime column comes back without the type's processing on SQLite."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
