"""The outbox: messages written with the change that caused them, delivered by a worker.

Delivery is at least once towards the provider and never again after a confirmed send.
Per recipient, only the oldest undelivered message is handed out, so messages arrive in order.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.orm import Session

from conversations.records import OutboxItem, OutboxView
from cpr import redact_cpr
from db.base import table_of
from db.conversation_tables import OutboxMessage

ERASED = "[slettet]"
"""What an anonymised text reads afterwards (Danish: "deleted"): retention and erasure write it;
the outbox never sends it, and caseworkers see it as is."""
MAX_ATTEMPTS = 24
BASE_BACKOFF_S = 2.0
MAX_BACKOFF_S = 120.0
"""Backoff 2, 4, ... 64 s, then every 2 minutes: a message outlives a provider outage of about
35 minutes before it is dead-lettered, and goes out at most 2 minutes after the provider is back."""
CLAIM_LEASE_S = 60.0
"""A claimed message is not handed out again for this long, so two workers do not both send it."""


def enqueue(
    session: Session, *, channel: str, recipient: str, text: str, buttons: tuple[str, ...],
    now: dt.datetime, conversation_id: int | None,
) -> int:
    message = OutboxMessage(
        channel=channel, recipient=recipient, text=redact_cpr(text), buttons_json=json.dumps(list(buttons)),
        status="pending", attempts=0, next_attempt_at=now, last_error="",
        conversation_id=conversation_id, created_at=now)
    session.add(message)
    session.flush()
    return message.id


def claim_due(
    session: Session, now: dt.datetime, limit: int, channels: tuple[str, ...]
) -> list[OutboxItem]:
    """Leases the oldest pending message of each recipient that is due now.

    Only channels that have a sender are claimed: the rest wait, undamaged, until one is set up.
    """
    heads = (
        select(func.min(OutboxMessage.id))
        .where(OutboxMessage.status == "pending", OutboxMessage.channel.in_(channels))
        .group_by(OutboxMessage.channel, OutboxMessage.recipient)
    )
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(heads), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = []
    for message in session.scalars(stmt):
        message.attempts += 1
        message.next_attempt_at = now + dt.timedelta(seconds=CLAIM_LEASE_S)
        claimed.append(OutboxItem(message.id, message.channel, message.recipient, message.text,
                                  tuple(json.loads(message.buttons_json)), message.attempts))
    return claimed


_OUTBOX = table_of(OutboxMessage)
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("message_id"), _OUTBOX.c.status != "sent")
    .values(status="sent", provider_message_id=bindparam("provider_id"),
            sent_at=bindparam("sent_at"))
)
"""Built once; one UPDATE per message (its row lock is the UPDATE's own), none for one
already marked: a send recorded twice changes nothing."""


def mark_sent_many(session: Session, sent: Sequence[tuple[int, str]], now: dt.datetime) -> None:
    """Each (message id, provider id) marked sent, oldest first, in the caller's transaction."""
    if sent:
        session.execute(_MARK_SENT, [{"message_id": message_id, "provider_id": provider_id,
                                      "sent_at": now}
                                     for message_id, provider_id in sorted(sent)])


def release(session: Session, message_ids: Sequence[int], now: dt.datetime) -> None:
    """Leased messages their holder will not send after all (the one before them failed):
    due now for the worker, with the attempt that was never made given back."""
    if message_ids:
        session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(message_ids), _OUTBOX.c.status == "pending")
            .values(next_attempt_at=now,
                    attempts=case((_OUTBOX.c.attempts > 0, _OUTBOX.c.attempts - 1), else_=0)))


def mark_failed(
    session: Session, message_id: int, error: str, *, transient: bool,
    retry_after: float | None, now: dt.datetime,
) -> str:
    """Schedules a retry with exponential backoff, or dead-letters the message. Returns status."""
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.status != "pending":
        return message.status if message else "missing"
    message.last_error = error[:500]
    if not transient or message.attempts >= MAX_ATTEMPTS:
        message.status = "dead"
        return "dead"
    delay = min(BASE_BACKOFF_S * 2 ** (message.attempts - 1), MAX_BACKOFF_S)
    message.next_attempt_at = now + dt.timedelta(seconds=max(delay, retry_after or 0))
    return "pending"


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {status: int(n) for status, n in rows}


def recent_for(session: Session, recipient: str, limit: int) -> list[tuple[str, str, str]]:
    rows = session.execute(
        select(OutboxMessage.text, OutboxMessage.status, OutboxMessage.channel)
        .where(OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.id.desc()).limit(limit))
    return [(text, status, channel) for text, status, channel in rows]


def list_by_status(session: Session, status: str, limit: int) -> list[OutboxView]:
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == status)
        .order_by(OutboxMessage.id.desc()).limit(limit))
    return [OutboxView(m.id, m.channel, m.recipient, m.text, m.status, m.attempts, m.last_error,
                       m.created_at, m.sent_at) for m in rows]


def requeue(session: Session, message_id: int, now: dt.datetime) -> bool:
    """Gives a dead letter another round of attempts (after an operator fixed the cause)."""

    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.status != "dead" or message.text == ERASED:
        return False
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = now
    return True
