"""Messages to a card holder's or an employer's linked phones and Telegram, through the
outbox, in the caller's transaction: the one path for a wage report's "your employer reported"
and every small-job message. Nothing goes to a conversation that said STOP.

A message to the other side is not tied to their conversation (no transcript row, no outbox conversation id): writing a row that references
their conversation would wait for its lock, which a turn of theirs may hold while it waits
for the task's lock that we hold, a deadlock.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, insert, literal, or_, select
from sqlalchemy.orm import Session

from conversations import outbox, outbox_signal, store
from cpr import redact_cpr
from db.base import table_of
from db.conversation_tables import Conversation, OutboxMessage
from db.tables import Card, CitizenContact, EmployerContact
from db.unit_of_work import UnitOfWork

_OUTBOX = table_of(OutboxMessage)


def _send(uow: UnitOfWork, kind: str, address: str, text: str) -> bool:
    channel = "telegram" if kind == "telegram" else "sms"
    if store.has_opted_out(uow.session, channel, address):
        return False
    outbox.enqueue(uow.session, channel=channel, recipient=address, text=text, buttons=(),
                   now=uow.now, conversation_id=None)
    return True


def holder_contacts(session: Session, card_id: int) -> list[tuple[str, str]]:
    """(kind, address) of every phone and Telegram linked to the card's holder."""
    rows = session.execute(
        select(CitizenContact.kind, CitizenContact.address)
        .join(Card, Card.citizen_id == CitizenContact.citizen_id)
        .where(Card.id == card_id).order_by(CitizenContact.id)).all()
    return [(kind, address) for kind, address in rows]


def employer_contacts(session: Session, employer_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(EmployerContact.kind, EmployerContact.address)
        .where(EmployerContact.employer_id == employer_id).order_by(EmployerContact.id)).all()
    return [(kind, address) for kind, address in rows]


def to_holder(uow: UnitOfWork, card_id: int, text: str) -> int:
    """Queues `text` to the card holder's linked contacts; returns how many were queued."""
    return _queue_to_holder(uow, Card.id == card_id, text)


def to_holder_of(uow: UnitOfWork, card_number: str, text: str) -> int:
    """`to_holder` for a card named by its number."""
    return _queue_to_holder(uow, Card.number == card_number, text)


def _queue_to_holder(uow: UnitOfWork, card: ColumnElement[bool], text: str) -> int:
    """One INSERT ... SELECT: the holder's contacts, those whose conversation said STOP left
    out, each queued in the order the contacts were linked (where `_send` for each contact
    read the opt-out and inserted, and the card's id was looked up first: four statements)."""
    channel = case((CitizenContact.kind == "telegram", "telegram"), else_="sms")
    now = literal(uow.now, _OUTBOX.c.created_at.type)
    contacts = (
        select(channel, CitizenContact.address, literal(redact_cpr(text), _OUTBOX.c.text.type),
               literal("[]"), literal("pending"), literal(0), now, literal(""), now)
        .select_from(CitizenContact)
        .join(Card, Card.citizen_id == CitizenContact.citizen_id)
        .outerjoin(Conversation, and_(Conversation.channel == channel,
                                      Conversation.address == CitizenContact.address))
        .where(card, or_(Conversation.opted_out.is_(None), Conversation.opted_out.is_(False)))
        .order_by(CitizenContact.id))
    queued = len(uow.session.execute(insert(_OUTBOX).from_select(
        ["channel", "recipient", "text", "buttons_json", "status", "attempts",
         "next_attempt_at", "last_error", "created_at"], contacts).returning(_OUTBOX.c.id)).all())
    if queued:
        outbox_signal.mark_inserted(uow.session)
    return queued


def to_employer(uow: UnitOfWork, employer_id: int, text: str) -> int:
    return sum(_send(uow, kind, address, text)
               for kind, address in employer_contacts(uow.session, employer_id))


def employer_phone(session: Session, employer_id: int) -> str | None:
    """The employer's first phone, written as Danes read it ("12 34 56 78"), for the holder."""
    for kind, address in employer_contacts(session, employer_id):
        if kind != "phone":
            continue
        if address.startswith("+45") and len(address) == 11:
            digits = address[3:]
            return " ".join(digits[i:i + 2] for i in range(0, 8, 2))
        return address
    return None
