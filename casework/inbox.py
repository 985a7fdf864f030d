"""The inbox of escalated conversations: list, read, take, reply, note, hand back, resolve.

An escalation belongs to the municipality of its conversation (`access.conversation_home`).
Any console role may handle the conversations of its municipality. Replies go out through
the outbox on the conversation's own channel (`conversations.escalations.send_reply`, as the
REST API's reply), are kept in the transcript, and show their delivery status there.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework import transcript
from casework.records import EscalationDetail, InboxItem, TranscriptUpdate
from conversations import escalations, store
from conversations.escalations import EscalationClosed, EscalationNotFound, NoNumberToCall
from db.console_tables import EscalationNote
from db.conversation_tables import Conversation, Escalation, TranscriptMessage
from db.unit_of_work import UnitOfWork
from staff.access import conversation_home, home_of, in_scope
from staff.principal import StaffPrincipal
from staff.redaction import MESSAGE_MAX, NOTE_MAX, clean_text, mask_address, preview

PREVIEW_LENGTH = 80


def _seconds(uow: UnitOfWork, since: dt.datetime) -> int:
    return max(int((uow.now - since).total_seconds()), 0)


def inbox(uow: UnitOfWork, principal: StaffPrincipal) -> list[InboxItem]:
    """Open escalations in the user's scope: urgent (crisis) first, then the oldest waiting."""
    session = uow.session
    home = conversation_home()
    rows = session.execute(
        select(Escalation, Conversation, home.label("home"))
        .join(Conversation, Conversation.id == Escalation.conversation_id)
        .where(Escalation.status != "resolved", in_scope(principal, home))
        .order_by(Escalation.urgent.desc(), Escalation.created_at, Escalation.id)
    ).all()
    latest = _latest_inbound(session, [c.id for _, c, _ in rows])
    labels = transcript.staff_labels(session, {e.owner for e, _, _ in rows if e.owner})
    items = []
    for escalation, conversation, municipality in rows:
        who = store.identity_for(session, conversation.channel, conversation.address)
        last = latest.get(conversation.id)
        items.append(InboxItem(
            id=escalation.id, conversation_id=conversation.id, urgent=escalation.urgent,
            reason=escalation.reason, status=escalation.status, channel=conversation.channel,
            municipality_code=municipality, created_at=escalation.created_at,
            waiting_seconds=_seconds(uow, escalation.created_at),
            preview=preview(last[0], PREVIEW_LENGTH) if last else "",
            last_message_at=last[1] if last else None,
            owner=transcript.label(escalation.owner, labels),
            owner_is_me=escalation.owner == principal.actor.name,
            card_number=who.card_number, holder_name=who.holder_name,
            employer_name=who.employer_name))
    return items


def _latest_inbound(
    session: Session, conversation_ids: list[int]
) -> dict[int, tuple[str, dt.datetime]]:
    """Each conversation's newest message from the citizen: (text, time)."""
    if not conversation_ids:
        return {}
    newest = (
        select(func.max(TranscriptMessage.id))
        .where(TranscriptMessage.conversation_id.in_(conversation_ids),
               TranscriptMessage.direction == "in")
        .group_by(TranscriptMessage.conversation_id)
    )
    rows = session.execute(
        select(TranscriptMessage.conversation_id, TranscriptMessage.text,
               TranscriptMessage.created_at)
        .where(TranscriptMessage.id.in_(newest))).all()
    return {cid: (text, at) for cid, text, at in rows}


def get_in_scope(
    session: Session, principal: StaffPrincipal, escalation_id: int, *, lock: bool = False
) -> tuple[Escalation, Conversation]:
    """The escalation and its conversation, or EscalationNotFound when missing or not the
    user's to see (the same error either way)."""
    escalation, conversation = escalations.get(session, escalation_id, lock=lock)
    if not principal.sees(home_of(session, conversation)):
        raise EscalationNotFound(id=escalation_id)
    return escalation, conversation


def detail(uow: UnitOfWork, principal: StaffPrincipal, escalation_id: int) -> EscalationDetail:
    session = uow.session
    escalation, conversation = get_in_scope(session, principal, escalation_id)
    ids = transcript.conversation_ids(session, conversation)
    who = store.identity_for(session, conversation.channel, conversation.address)
    owner_labels = transcript.staff_labels(session, [escalation.owner or ""])
    return EscalationDetail(
        id=escalation.id, conversation_id=conversation.id, status=escalation.status,
        urgent=escalation.urgent, reason=escalation.reason, outcome=escalation.outcome,
        channel=conversation.channel,
        address_masked=mask_address(conversation.channel, conversation.address),
        municipality_code=home_of(session, conversation), created_at=escalation.created_at,
        taken_at=escalation.taken_at, resolved_at=escalation.resolved_at,
        waiting_seconds=_seconds(uow, escalation.created_at),
        owner=transcript.label(escalation.owner, owner_labels),
        owner_is_me=escalation.owner == principal.actor.name,
        card_number=who.card_number, holder_name=who.holder_name,
        employer_cvr=who.employer_cvr, employer_name=who.employer_name,
        conversation_ids=ids, transcript=tuple(transcript.entries(session, ids)),
        notes=transcript.notes(session, escalation.id),
        last_message_id=transcript.last_message_id(session, ids))


def since(
    uow: UnitOfWork, principal: StaffPrincipal, escalation_id: int, after_message_id: int
) -> TranscriptUpdate:
    """For polling: messages after `after_message_id`, and every staff reply's delivery."""
    session = uow.session
    escalation, conversation = get_in_scope(session, principal, escalation_id)
    ids = transcript.conversation_ids(session, conversation)
    new = transcript.entries(session, ids, after_id=after_message_id)
    return TranscriptUpdate(
        entries=tuple(new), deliveries=transcript.deliveries(session, ids),
        status=escalation.status,
        last_message_id=max([after_message_id, *(e.id for e in new)]))


def take(uow: UnitOfWork, principal: StaffPrincipal, escalation_id: int) -> None:
    """The user owns the conversation now; the bot stays quiet until it is handed back.
    Taking over from a colleague is allowed; the previous owner is kept in the audit log."""
    escalation, _ = get_in_scope(uow.session, principal, escalation_id, lock=True)
    previous = escalation.owner
    escalations.take(uow.session, escalation_id, principal.actor.name, uow.now)
    uow.audit(principal.actor, "escalation.take", "escalation", escalation_id,
              previous_owner=previous)
    uow.commit()


def reply(uow: UnitOfWork, principal: StaffPrincipal, escalation_id: int, text: str) -> int:
    """Queues the reply on the conversation's channel; a waiting escalation is taken first, so
    the bot does not talk over the person. Returns the outbox id."""
    body = clean_text(text, MESSAGE_MAX)
    escalation, conversation = get_in_scope(uow.session, principal, escalation_id, lock=True)
    if escalation.status == "resolved":
        raise EscalationClosed(id=escalation_id)
    if escalation.status == "waiting":
        escalations.take(uow.session, escalation_id, principal.actor.name, uow.now)
    outbox_id = escalations.send_reply(uow.session, conversation, body, principal.actor.name,
                                       uow.now)
    uow.audit(principal.actor, "escalation.reply", "escalation", escalation_id,
              outbox_id=outbox_id)
    uow.commit()
    return outbox_id


def add_note(uow: UnitOfWork, principal: StaffPrincipal, escalation_id: int, text: str) -> int:
    """An internal note (also on a closed escalation, for the record). Returns its id."""
    body = clean_text(text, NOTE_MAX)
    get_in_scope(uow.session, principal, escalation_id)
    note = EscalationNote(escalation_id=escalation_id, author=principal.actor.name, text=body,
                          created_at=uow.now)
    uow.session.add(note)
    uow.session.flush()
    uow.audit(principal.actor, "escalation.note", "escalation", escalation_id, note_id=note.id)
    uow.commit()
    return note.id


def close(uow: UnitOfWork, principal: StaffPrincipal, escalation_id: int, outcome: str) -> None:
    """Ends the escalation and gives the conversation back to the bot: 'handed_back' when the
    bot can carry on, 'resolved' when the matter is settled. Closing twice is a conflict."""
    escalation, _ = get_in_scope(uow.session, principal, escalation_id, lock=True)
    if escalation.status == "resolved":
        raise EscalationClosed(id=escalation_id)
    escalations.resolve(uow.session, escalation_id, uow.now)
    escalation.outcome = outcome
    uow.audit(principal.actor, f"escalation.{outcome}", "escalation", escalation_id)
    uow.commit()


def call_back(uow: UnitOfWork, principal: StaffPrincipal, escalation_id: int) -> str:
    """"Ring tilbage": the caller's full number, for the caseworker to ring. The escalation is
    taken by the user (so nobody rings twice), and the audit log says who was shown it."""
    escalation, conversation = get_in_scope(uow.session, principal, escalation_id, lock=True)
    if escalation.status == "resolved":
        raise EscalationClosed(id=escalation_id)
    if conversation.channel == "telegram" or not conversation.address.startswith("+"):
        raise NoNumberToCall()
    if escalation.owner != principal.actor.name:
        escalations.take(uow.session, escalation_id, principal.actor.name, uow.now)
    uow.audit(principal.actor, "escalation.call_back", "escalation", escalation_id)
    uow.commit()
    return conversation.address
