"""Messages to a card holder's or an employer's linked phones and Telegram, through the
outbox, in the caller's transaction: the one path for a wage report's "your employer reported"
and every small-job message. Nothing goes to a conversation that said STOP.

A message to the other side is not tied to their conversation (no transcript row, no outbox conversation id): writing a row that references
their conversation would wait for its lock, which a turn of theirs may hold while it waits
for the task's lock that we hold, a deadlock.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import outbox, store
from db.tables import Card, CitizenContact, EmployerContact
from db.unit_of_work import UnitOfWork


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
    return sum(_send(uow, kind, address, text)
               for kind, address in holder_contacts(uow.session, card_id))


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
