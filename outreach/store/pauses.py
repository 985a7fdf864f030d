"""INGEN PÅMINDELSER: a conversation that wants no reminders, but still talks to the bot."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.outreach_tables import OutreachPause


def set_reminders(session: Session, conversation_id: int, on: bool, now: dt.datetime) -> bool:
    """Turns reminders off (a pause row) or on again; True when that changed anything."""
    found = session.get(OutreachPause, conversation_id)
    if on and found is not None:
        session.delete(found)
        return True
    if not on and found is None:
        session.add(OutreachPause(conversation_id=conversation_id, created_at=now))
        return True
    return False


def reminders_on(session: Session, conversation_id: int) -> bool:
    return session.get(OutreachPause, conversation_id) is None
