"""Messages to a card holder's or an employer's linked phones and Telegram, through the
outbox, in the caller's transaction: the one path for a wage report's "your employer reported"
and every small-job message. Nothing goes to a conversation that said STOP.

A message to the other side is not tied to their conversation (no transcript row, no outbox conversation id): writing a row that references
their conversation would wait for its lock, which a turn of theirs may hold while it waits
for the task's lock that we hold, a deadlock.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, case, insert, literal, or_, select
from sqlalchemy.orm import Session

from conversations import outbox_signal
from cpr import redact_cpr
from db.base import table_of
from db.conversation_tables import Conversation, OutboxMessage
from db.tables import Card, CitizenContact, EmployerContact
from db.unit_of_work import UnitOfWork

_OUTBOX = table_of(OutboxMessage)


def holder_contacts(session: Session, card_id: int) -> list[tuple[str, str]]:
    """(kind, address) of every phone and Telegram linked to the card's holder."""
    rows = session.execute(_holder_contacts(Card.id == card_id).order_by(CitizenContact.id))
    return [(kind, address) for _, kind, address in rows]


def employer_contacts(session: Session, employer_id: int) -> list[tuple[str, str]]:
    rows = session.execute(_employer_contacts(employer_id).order_by(EmployerContact.id))
    return [(kind, address) for _, kind, address in rows]


def to_holder(uow: UnitOfWork, card_id: int, text: str) -> int:
    """Queues `text` to the card holder's linked contacts; returns how many were queued."""
    return _queue(uow, _holder_contacts(Card.id == card_id), text)


def to_holder_of(uow: UnitOfWork, card_number: str, text: str) -> int:
    """`to_holder` for a card named by its number."""
    return _queue(uow, _holder_contacts(Card.number == card_number), text)


def to_employer(uow: UnitOfWork, employer_id: int, text: str) -> int:
    return _queue(uow, _employer_contacts(employer_id), text)


def _holder_contacts(card: ColumnElement[bool]) -> Select[tuple[int, str, str]]:
    """(id, kind, address) of the contacts of the holder of the card(s) `card` picks."""
    return (select(CitizenContact.id, CitizenContact.kind, CitizenContact.address)
            .join(Card, Card.citizen_id == CitizenContact.citizen_id).where(card))


def _employer_contacts(employer_id: int) -> Select[tuple[int, str, str]]:
    return (select(EmployerContact.id, EmployerContact.kind, EmployerContact.address)
            .where(EmployerContact.employer_id == employer_id))


def _queue(uow: UnitOfWork, contacts: Select[tuple[int, str, str]], text: str) -> int:
    """One INSERT ... SELECT over the contacts (id, kind, address): each queued in the order
    it was linked, those whose conversation said STOP left out (one statement, where reading
    the opt-out and inserting for each contact took two, and a card's id one more)."""
    found = contacts.subquery()
    channel = case((found.c.kind == "telegram", "telegram"), else_="sms")
    now = literal(uow.now, _OUTBOX.c.created_at.type)
    rows = (
        select(channel, found.c.address, literal(redact_cpr(text), _OUTBOX.c.text.type),
               literal("[]"), literal("pending"), literal(0), now, literal(""), now)
        .select_from(found)
        .outerjoin(Conversation, and_(Conversation.channel == channel,
                                      Conversation.address == found.c.address))
        .where(or_(Conversation.opted_out.is_(None), Conversation.opted_out.is_(False)))
        .order_by(found.c.id))
    queued = len(uow.session.execute(insert(_OUTBOX).from_select(
        ["channel", "recipient", "text", "buttons_json", "status", "attempts",
         "next_attempt_at", "last_error", "created_at"], rows).returning(_OUTBOX.c.id)).all())
    if queued:
        outbox_signal.mark_inserted(uow.session)
    return queued


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
