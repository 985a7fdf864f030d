"""A citizen's transcript across channels: SMS, Telegram and the web chat merged by time.

When the sender of an escalated conversation is linked to a citizen, every conversation from
any of that citizen's phones or Telegram ids is merged in; otherwise only the one
conversation is shown. Text is CPR-redacted on the way out (see `privacy`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from casework.records import NoteItem, TranscriptEntry
from conversations.store import channels_of_kind, contact_kind
from db.console_tables import EscalationNote, StaffUser
from db.conversation_tables import Conversation, OutboxMessage, TranscriptMessage
from db.tables import CitizenContact
from staff.redaction import redact_cpr

CONSOLE_PREFIX = "console:"
MAX_LINES = 500
"""The newest messages shown at once; older ones stay stored."""


def citizen_id_of(session: Session, conversation: Conversation) -> int | None:
    return session.scalar(select(CitizenContact.citizen_id).where(
        CitizenContact.kind == contact_kind(conversation.channel),
        CitizenContact.address == conversation.address))


def conversation_ids(session: Session, conversation: Conversation) -> tuple[int, ...]:
    """The conversation and, for a linked citizen, all their other conversations."""
    citizen_id = citizen_id_of(session, conversation)
    if citizen_id is None:
        return (conversation.id,)
    contacts = session.execute(select(CitizenContact.kind, CitizenContact.address).where(
        CitizenContact.citizen_id == citizen_id)).all()
    matches = [and_(Conversation.channel.in_(channels_of_kind(kind)),
                    Conversation.address == address) for kind, address in contacts]
    found = set(session.scalars(select(Conversation.id).where(or_(*matches))))
    return tuple(sorted(found | {conversation.id}))


def staff_labels(session: Session, authors: Iterable[str]) -> dict[str, str]:
    """"console:<username>" to the staff member's display name."""
    usernames = {a[len(CONSOLE_PREFIX):] for a in authors if a.startswith(CONSOLE_PREFIX)}
    if not usernames:
        return {}
    rows = session.execute(select(StaffUser.username, StaffUser.display_name).where(
        StaffUser.username.in_(usernames)))
    return {f"{CONSOLE_PREFIX}{username}": name for username, name in rows}


def label(author: str | None, labels: dict[str, str]) -> str | None:
    """A display name for a staff author; the name itself for one given over the REST API."""
    if author is None:
        return None
    if author.startswith(CONSOLE_PREFIX):
        return labels.get(author, author[len(CONSOLE_PREFIX):])
    return None if author in ("user", "bot") else author


def entries(
    session: Session, ids: tuple[int, ...], *, after_id: int = 0
) -> list[TranscriptEntry]:
    """The newest MAX_LINES messages of these conversations after `after_id`, oldest first."""
    rows = session.execute(
        select(TranscriptMessage, OutboxMessage.status)
        .outerjoin(OutboxMessage, OutboxMessage.id == TranscriptMessage.outbox_id)
        .where(TranscriptMessage.conversation_id.in_(ids), TranscriptMessage.id > after_id)
        .order_by(TranscriptMessage.created_at.desc(), TranscriptMessage.id.desc())
        .limit(MAX_LINES)
    ).all()
    labels = staff_labels(session, {m.author for m, _ in rows})
    return [
        TranscriptEntry(
            id=m.id, conversation_id=m.conversation_id, channel=m.channel,
            direction=m.direction, author=m.author, author_label=label(m.author, labels),
            from_staff=m.direction == "out" and m.author not in ("bot", "user"),
            text=redact_cpr(m.text), at=m.created_at, delivery=status)
        for m, status in reversed(rows)
    ]


def deliveries(session: Session, ids: tuple[int, ...]) -> tuple[tuple[int, str], ...]:
    """(message id, outbox status) of every staff reply in these conversations."""
    rows = session.execute(
        select(TranscriptMessage.id, OutboxMessage.status)
        .join(OutboxMessage, OutboxMessage.id == TranscriptMessage.outbox_id)
        .where(TranscriptMessage.conversation_id.in_(ids), TranscriptMessage.direction == "out",
               TranscriptMessage.author.not_in(("bot", "user")))
        .order_by(TranscriptMessage.id)
    ).all()
    return tuple((int(message_id), status) for message_id, status in rows)


def last_message_id(session: Session, ids: tuple[int, ...]) -> int:
    newest = session.scalar(select(TranscriptMessage.id).where(
        TranscriptMessage.conversation_id.in_(ids)).order_by(TranscriptMessage.id.desc()).limit(1))
    return int(newest or 0)


def notes(session: Session, escalation_id: int) -> tuple[NoteItem, ...]:
    rows = session.scalars(select(EscalationNote).where(
        EscalationNote.escalation_id == escalation_id).order_by(EscalationNote.id)).all()
    labels = staff_labels(session, {n.author for n in rows})
    return tuple(NoteItem(id=n.id, author=n.author, author_label=label(n.author, labels),
                          text=redact_cpr(n.text), at=n.created_at) for n in rows)
