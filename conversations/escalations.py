"""Escalations: a conversation handed to a person. Urgent ones (crisis) first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import outbox, store
from conversations.records import EscalationView
from db.conversation_tables import Conversation, Escalation
from db.errors import Conflict, NotFound


class EscalationNotFound(NotFound):
    code = "escalation_not_found"


class EscalationClosed(Conflict):
    code = "escalation_closed"


class NoNumberToCall(Conflict):
    """"Ring tilbage" on a conversation without a phone number (Telegram, a withheld one)."""

    code = "no_number_to_call"


def open_escalation(
    session: Session, conversation: Conversation, *, urgent: bool, reason: str, now: dt.datetime
) -> int:
    """Opens one, or makes the open one urgent; a conversation has at most one open."""
    current = session.scalar(select(Escalation).where(
        Escalation.conversation_id == conversation.id, Escalation.status != "resolved"))
    if current is not None:
        if urgent and not current.urgent:
            current.urgent = True
            current.reason = reason
        return current.id
    escalation = Escalation(conversation_id=conversation.id, urgent=urgent, reason=reason,
                            status="waiting", created_at=now)
    session.add(escalation)
    if conversation.handoff == "bot":
        conversation.handoff = "waiting"
    session.flush()
    return escalation.id


CALLBACK = "callback"
"""The reason of a caller's request to be rung back (bot/voice): the inbox offers "ring tilbage"."""


def request_callback(
    session: Session, conversation: Conversation, *, urgent: bool, now: dt.datetime
) -> int:
    """A caller wants a person to ring back: the open escalation says so (a crisis keeps its
    reason, and stays first in line), or a new one is opened."""
    current = session.scalar(select(Escalation).where(
        Escalation.conversation_id == conversation.id, Escalation.status != "resolved"))
    if current is None:
        return open_escalation(session, conversation, urgent=urgent, reason=CALLBACK, now=now)
    if not current.reason.startswith("crisis"):
        current.reason = CALLBACK
    current.urgent = current.urgent or urgent
    return current.id


def open_for(session: Session, conversation: Conversation) -> EscalationView | None:
    current = session.scalar(select(Escalation).where(
        Escalation.conversation_id == conversation.id, Escalation.status != "resolved"))
    return view(current, conversation) if current is not None else None


def withdraw(session: Session, conversation: Conversation, now: dt.datetime) -> int | None:
    """Closes a non-urgent open escalation at the citizen's word and gives the conversation
    back to the bot; its id, or None when there is none or it is urgent (a crisis stays with a
    person)."""
    current = session.scalar(select(Escalation).where(
        Escalation.conversation_id == conversation.id, Escalation.status != "resolved"))
    if current is None or current.urgent:
        return None
    current.status = "resolved"
    current.resolved_at = now
    current.outcome = "withdrawn"
    conversation.handoff = "bot"
    return current.id


def list_open(session: Session, municipality_code: str | None = None) -> list[EscalationView]:
    """Urgent first, then the oldest waiting."""
    stmt = (
        select(Escalation, Conversation)
        .join(Conversation, Conversation.id == Escalation.conversation_id)
        .where(Escalation.status != "resolved")
        .order_by(Escalation.urgent.desc(), Escalation.created_at, Escalation.id)
    )
    if municipality_code is not None:
        stmt = stmt.where(Conversation.municipality_code == municipality_code)
    return [view(e, c) for e, c in session.execute(stmt)]


def get(session: Session, escalation_id: int, *, lock: bool = False) -> tuple[Escalation, Conversation]:
    escalation = session.get(Escalation, escalation_id, with_for_update=lock or None)
    if escalation is None:
        raise EscalationNotFound(id=escalation_id)
    conversation = session.get(Conversation, escalation.conversation_id, with_for_update=lock or None)
    assert conversation is not None
    return escalation, conversation


def take(session: Session, escalation_id: int, owner: str, now: dt.datetime) -> EscalationView:
    escalation, conversation = get(session, escalation_id, lock=True)
    if escalation.status == "resolved":
        raise EscalationClosed(id=escalation_id)
    escalation.status = "taken"
    escalation.owner = owner
    escalation.taken_at = escalation.taken_at or now
    conversation.handoff = "human"
    return view(escalation, conversation)


def resolve(session: Session, escalation_id: int, now: dt.datetime) -> EscalationView:
    """Closes the escalation and gives the conversation back to the bot."""
    escalation, conversation = get(session, escalation_id, lock=True)
    escalation.status = "resolved"
    escalation.resolved_at = now
    conversation.handoff = "bot"
    return view(escalation, conversation)


def send_reply(
    session: Session, conversation: Conversation, text: str, author: str, now: dt.datetime
) -> int:
    """A person's reply: queued through the outbox to the conversation's own channel and
    kept in its transcript. Returns the outbox id."""
    outbox_id = outbox.enqueue(session, channel=conversation.channel,
                               recipient=conversation.address, text=text, buttons=(),
                               now=now, conversation_id=conversation.id)
    store.record_outbound(session, conversation, text, author, now, outbox_id)
    return outbox_id


def view(escalation: Escalation, conversation: Conversation) -> EscalationView:
    return EscalationView(
        id=escalation.id, conversation_id=conversation.id, channel=conversation.channel,
        address=conversation.address, urgent=escalation.urgent, reason=escalation.reason,
        status=escalation.status, owner=escalation.owner, created_at=escalation.created_at,
        municipality_code=conversation.municipality_code)
