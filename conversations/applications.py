"""Card applications taken by the bot and decided by a caseworker."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from conversations.records import ApplicationAnswers
from cpr import redact_cpr, redact_values
from db.conversation_tables import CardApplication
from db.vault import CprVault, normalise_cpr


def submit(
    session: Session, answers: ApplicationAnswers, *, conversation_id: int | None,
    vault: CprVault, now: dt.datetime,
) -> int:
    """Stores the application; a CPR number, if given, only encrypted and as a lookup hash."""
    cpr = normalise_cpr(answers.cpr) if answers.cpr else None
    # The free-text answers are the person's own words: a CPR number typed into one of them is
    # kept only encrypted (above), never in clear.
    application = CardApplication(
        conversation_id=conversation_id, name=redact_cpr(answers.name),
        cpr_encrypted=vault.encrypt(cpr) if cpr else None,
        cpr_hash=vault.lookup_hash(cpr) if cpr else None,
        municipality_code=answers.municipality_code, postcode=answers.postcode,
        answers_json=json.dumps(redact_values(answers.answers), ensure_ascii=False,
                                default=str),
        status="received", created_at=now)
    session.add(application)
    session.flush()
    return application.id
