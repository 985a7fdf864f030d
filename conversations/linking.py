"""Linking a phone or Telegram id to a card: with the grant letter's code, or a shared contact."""

from __future__ import annotations

import datetime as dt
import enum
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.conversation_tables import LinkAttempts, LinkCode
from db.tables import Card, CitizenContact
from ledger.service.contacts import link_contact
from ledger.service.link_codes import link_code_hash

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(hours=24)


class LinkOutcome(enum.Enum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    WRONG_CODE = "wrong_code"
    LOCKED = "locked"


def _attempts(session: Session, channel: str, address: str) -> LinkAttempts:
    """The sender's row of wrong tries, locked, made on first use."""
    attempts = session.get(LinkAttempts, (channel, address), with_for_update=True)
    if attempts is None:
        attempts = LinkAttempts(channel=channel, address=address, failures=0)
        session.add(attempts)
        session.flush()  # so tries_left() in the same turn sees this row
    return attempts


def link_with_code(
    session: Session, *, channel: str, address: str, card_number: str, code: str,
    hash_key: bytes, now: dt.datetime,
) -> LinkOutcome:
    """Checks the code; five wrong tries from one sender lock it out for a day.

    An unknown card number counts as a wrong code, so guessing cannot tell numbers apart.
    """
    attempts = _attempts(session, channel, address)
    if attempts.locked_until is not None and attempts.locked_until > now:
        return LinkOutcome.LOCKED
    card = session.scalar(select(Card).where(Card.number == card_number))
    stored = session.get(LinkCode, card.id) if card is not None else None
    expected = stored.code_hash if stored is not None else None
    given = link_code_hash(hash_key, card_number, code)
    if card is None or expected is None or not hmac.compare_digest(expected, given):
        return _one_more_failure(attempts, MAX_FAILURES, now)
    attempts.failures = 0
    kind = "telegram" if channel == "telegram" else "phone"
    taken = session.scalar(select(CitizenContact).where(
        CitizenContact.kind == kind, CitizenContact.address == address))
    if taken is not None and taken.citizen_id == card.citizen_id:
        return LinkOutcome.ALREADY_LINKED
    if taken is not None:
        session.delete(taken)  # a phone number changes hands: the newest proven owner wins
        session.flush()
    link_contact(session, card.citizen_id, kind, address, now)
    return LinkOutcome.LINKED


ENDING_CHANNEL = "voice"
"""Wrong Frikort-ID endings are counted apart from wrong link codes (the same table, its own
row per caller): three in a row lock a caller's figures for a day."""
ENDING_MAX_FAILURES = 3


def check_card_ending(
    session: Session, *, address: str, card_number: str, digits: str, now: dt.datetime
) -> LinkOutcome:
    """A caller proves the number they call from by the last two digits of the card linked to
    it. LINKED when they match, WRONG_CODE when not, LOCKED after three wrong in a row."""
    attempts = _attempts(session, ENDING_CHANNEL, address)
    if attempts.locked_until is not None and attempts.locked_until > now:
        return LinkOutcome.LOCKED
    if hmac.compare_digest(card_number[-2:], digits):
        attempts.failures = 0
        return LinkOutcome.LINKED
    return _one_more_failure(attempts, ENDING_MAX_FAILURES, now)


def _one_more_failure(attempts: LinkAttempts, most: int, now: dt.datetime) -> LinkOutcome:
    """A wrong try counted; the `most`-th in a row locks the caller out for LOCKOUT."""
    attempts.failures += 1
    if attempts.failures < most:
        return LinkOutcome.WRONG_CODE
    attempts.locked_until = now + LOCKOUT
    attempts.failures = 0
    return LinkOutcome.LOCKED


def tries_left(session: Session, channel: str, address: str) -> int:
    attempts = session.get(LinkAttempts, (channel, address))
    return MAX_FAILURES - (attempts.failures if attempts else 0)


def link_telegram_by_phone(
    session: Session, *, telegram_id: str, phone: str, now: dt.datetime
) -> str | None:
    """A user who shares their own contact, with a phone already linked, is linked at once."""
    owner = session.scalar(select(CitizenContact).where(
        CitizenContact.kind == "phone", CitizenContact.address == phone))
    if owner is None:
        return None
    link_contact(session, owner.citizen_id, "telegram", telegram_id, now)
    return session.scalar(select(Card.number).where(Card.citizen_id == owner.citizen_id))
