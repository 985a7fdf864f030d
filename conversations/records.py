"""Plain values handed to the bot: never ORM rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StoredInbound:
    """An inbound message after it was stored; `replies` is set when it was already answered."""

    id: int
    conversation_id: int
    duplicate: bool
    replies: tuple[str, ...] | None
    recent: int | None = None
    """With `count_recent`: the sender's messages in the window up to this one (rate limit)."""


@dataclass(frozen=True)
class InboundState:
    """A stored inbound message as a turn found it under the lock: answered (`replies`, maybe
    none) or not yet (None)."""

    id: int
    replies: tuple[str, ...] | None


@dataclass(frozen=True)
class Identity:
    """Who a sender is to the ledger: a linked card holder, an employer contact, or nobody."""

    card_number: str | None = None
    holder_name: str | None = None
    employer_cvr: str | None = None
    employer_name: str | None = None
    employer_verified: bool = False

    @property
    def is_card_holder(self) -> bool:
        return self.card_number is not None

    @property
    def is_employer(self) -> bool:
        return self.employer_cvr is not None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    channel: str
    recipient: str
    text: str
    buttons: tuple[str, ...]
    attempts: int


@dataclass(frozen=True)
class OutboxView:
    id: int
    channel: str
    recipient: str
    text: str
    status: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class EscalationView:
    id: int
    conversation_id: int
    channel: str
    address: str
    urgent: bool
    reason: str
    status: str
    owner: str | None
    created_at: dt.datetime
    municipality_code: str | None


@dataclass(frozen=True)
class TranscriptLine:
    direction: str
    author: str
    text: str
    at: dt.datetime
    delivery: str | None = None


@dataclass(frozen=True)
class ApplicationAnswers:
    """What the bot collected for a card application; the CPR is optional and never echoed."""

    name: str
    cpr: str | None
    postcode: str | None
    municipality_code: str | None
    answers: dict[str, object] = field(default_factory=dict)
