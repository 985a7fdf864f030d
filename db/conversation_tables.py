"""Tables behind the conversations: state, transcript, outbox, escalations, applications, links.

They live in the ledger because it alone holds database sessions; the bot reaches them only
through `ledger.turn.Turn`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.tables import Id, UtcDateTime

CHANNELS = "('sms', 'telegram', 'web')"


class Conversation(Base):
    """One per channel address; its row is the lock that serialises a sender's messages."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "address", name="channel_address"),
        CheckConstraint(f"channel IN {CHANNELS}", name="channel"),
        CheckConstraint("handoff IN ('bot', 'waiting', 'human')", name="handoff"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(64))
    state_json: Mapped[str] = mapped_column(Text, default="{}")
    handoff: Mapped[str] = mapped_column(String(10), default="bot")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    municipality_code: Mapped[str | None] = mapped_column(String(3))
    last_activity_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class TranscriptMessage(Base):
    """Every message in or out, CPR numbers already redacted by the bot before storing."""

    __tablename__ = "transcript_messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id", name="channel_provider_id"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        Index("ix_transcript_messages_conversation", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(10))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(40))
    replies_json: Mapped[str | None] = mapped_column(Text)
    """For an inbound message: the replies it got, so a provider retry gets the same answer."""
    processed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class OutboxMessage(Base):
    """A message to send later, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'dead')", name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_recipient", "channel", "recipient", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    buttons_json: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'taken', 'resolved')", name="status"),
        Index("ix_escalations_open", "status", "urgent", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    owner: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    """How it ended: 'resolved' by the caseworker or 'handed_back' to the bot."""


class CardApplication(Base):
    """A citizen's application taken by the bot, waiting for a caseworker's decision."""

    __tablename__ = "card_applications"
    __table_args__ = (
        CheckConstraint("status IN ('received', 'approved', 'rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    name: Mapped[str] = mapped_column(String(200))
    cpr_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    cpr_hash: Mapped[str | None] = mapped_column(String(64))
    municipality_code: Mapped[str | None] = mapped_column(String(3), index=True)
    postcode: Mapped[str | None] = mapped_column(String(4))
    answers_json: Mapped[str] = mapped_column(Text, default="{}")
    """Benefit, consent, job wishes, contact preference and helper, as answered."""
    status: Mapped[str] = mapped_column(String(10), default="received")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    """When a caseworker first opened it: the applicant is told someone is looking at it."""
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    """The card issued on approval."""


class LinkCode(Base):
    """The personal code in the grant letter that links a phone or Telegram to a card."""

    __tablename__ = "link_codes"

    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class LinkAttempts(Base):
    """Wrong link codes per sender, for rate limiting and lockout."""

    __tablename__ = "link_attempts"

    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
