"""The 4-digit code on a grant letter that links a phone or Telegram to the card: made when
the card is issued or a new letter is asked for; checked by `conversations.linking`."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session

from db.conversation_tables import LinkCode
from db.tables import Card


def link_code_hash(hash_key: bytes, card_number: str, code: str) -> str:
    return hmac.new(hash_key, f"link:{card_number}:{code}".encode(), hashlib.sha256).hexdigest()


def new_link_code(session: Session, card: Card, hash_key: bytes, now: dt.datetime) -> str:
    """A fresh 4-digit code for the grant letter; only its keyed hash is stored."""
    code = f"{secrets.randbelow(10_000):04d}"
    existing = session.get(LinkCode, card.id)
    digest = link_code_hash(hash_key, card.number, code)
    if existing is None:
        session.add(LinkCode(card_id=card.id, code_hash=digest, created_at=now))
    else:
        existing.code_hash = digest
        existing.created_at = now
    return code
