"""Phones and Telegram ids linked to citizens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db.tables import CitizenContact
from ledger.errors import ContactInUse


def link_contact(session: Session, citizen_id: int, kind: str, address: str, now: dt.datetime) -> None:
    """Links a phone or Telegram id to a citizen; an address belongs to one citizen only."""
    current = session.scalar(
        select(CitizenContact).where(CitizenContact.kind == kind, CitizenContact.address == address)
    )
    if current is not None and current.citizen_id != citizen_id:
        raise ContactInUse()
    if current is None:
        session.execute(insert(CitizenContact).values(
            citizen_id=citizen_id, kind=kind, address=address, created_at=now))
