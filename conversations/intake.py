"""Guards for inbound messages: what can be stored as it was sent, and how fast a sender writes.

Storable: a message is stored exactly as it was sent, or refused (`InvalidInput`, which the
webhooks answer with a 4xx) before anything is written. Refused are texts neither database
can hold as they are (NUL characters: PostgreSQL text cannot contain them; lone surrogates:
not UTF-8), and addresses or provider message ids longer than their columns.

Rate: every inbound message is stored before anything else happens, so the transcript itself
says how many messages a sender wrote in the last minute. No counter table and no process
memory: every worker process sees the same count. Only messages up to and including the one
being handled are counted (by id), so its answer does not depend on what arrives after it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Integer, Select, String, bindparam, func, select
from sqlalchemy.orm import Session

from db.base import table_of
from db.conversation_tables import Conversation, TranscriptMessage
from db.errors import InvalidInput


def _length(column: Column[str]) -> int:
    """The declared length of a string column, so the limits checked here follow the schema."""
    kind = column.type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{column.name} has no declared length")
    return kind.length


MAX_ADDRESS = _length(table_of(Conversation).c.address)
MAX_PROVIDER_MESSAGE_ID = _length(table_of(TranscriptMessage).c.provider_message_id)


def is_storable_text(text: str) -> bool:
    """True when the text can be stored unchanged in SQLite and PostgreSQL."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from "\ud800" in JSON
        return False
    return True


def check_inbound(address: str, provider_message_id: str, text: str) -> None:
    """Raises InvalidInput for a message that could not be stored exactly as it was sent."""
    for what, value, limit in (("address", address, MAX_ADDRESS),
                               ("provider message id", provider_message_id,
                                MAX_PROVIDER_MESSAGE_ID)):
        if not value or len(value) > limit or not is_storable_text(value):
            raise InvalidInput(f"inbound {what} is empty, too long or not text")
    check_text(text)


def check_text(*texts: str) -> None:
    """Raises InvalidInput unless every text can be stored exactly as given."""
    if not all(is_storable_text(text) for text in texts):
        raise InvalidInput("text contains NUL or a lone surrogate")


def _recent_inbound_statement() -> Select[tuple[int]]:
    latest = (select(TranscriptMessage.created_at)
              .where(TranscriptMessage.conversation_id == bindparam("conversation_id"),
                     TranscriptMessage.direction == "in",
                     TranscriptMessage.id <= bindparam("inbound_id"))
              .order_by(TranscriptMessage.id.desc())
              .limit(bindparam("at_most", type_=Integer))
              .subquery())
    return select(func.count()).select_from(latest).where(latest.c.created_at >= bindparam("since"))


_RECENT_INBOUND = _recent_inbound_statement()
"""Built once: it runs for every message, and building a select costs more than running it."""


def recent_inbound(
    session: Session, conversation_id: int, inbound_id: int, since: dt.datetime, at_most: int
) -> int:
    """Inbound messages of the conversation created at or after `since`, up to and including
    `inbound_id`; counts at most `at_most` (reads that many rows by the conversation index)."""
    count = session.scalar(_RECENT_INBOUND, {
        "conversation_id": conversation_id, "inbound_id": inbound_id, "at_most": at_most,
        "since": since})
    return int(count or 0)
