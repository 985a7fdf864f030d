"""Tables behind outreach (issue 16): the rules, every message (or decision not to send one),
the people who said INGEN PÅMINDELSER, and the console's announcements.

`outreach_messages` has one row per rule, person and occasion (unique): the row is written in
the same transaction as the outbox message it queues, so a second worker, or a sweep run again
after a crash, finds the key taken and sends nothing. No addresses are kept here: the outbox row
holds the recipient (and retention and erasure treat it as they treat every outbox row).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.tables import Id, UtcDateTime

MESSAGE_STATUSES = ("queued", "skipped")
ANNOUNCEMENT_STATUSES = ("scheduled", "done")
ANNOUNCEMENT_AUDIENCES = ("active", "used", "never_used", "digest")


class OutreachRule(Base):
    """One kind of message: who gets it, when, its text and at most how often. Written from
    `outreach/data/rules.da.yml` when missing; an operator may switch a rule off here."""

    __tablename__ = "outreach_rules"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    text_id: Mapped[str] = mapped_column(String(60))
    who: Mapped[str] = mapped_column(Text)
    timing: Mapped[str] = mapped_column(Text)
    delay_hours: Mapped[int] = mapped_column(Integer)
    every_days: Mapped[int] = mapped_column(Integer)
    """At most one message of this rule per person in this many days (0: once per occasion)."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class OutreachMessage(Base):
    """A rule's message to one person for one occasion: queued in the outbox, or skipped with
    the reason (STOP, INGEN PÅMINDELSER, the weekly limit, no linked contact, ...)."""

    __tablename__ = "outreach_messages"
    __table_args__ = (
        UniqueConstraint("rule", "person_key", "occasion", name="rule_person_occasion"),
        CheckConstraint("status IN ('queued', 'skipped')", name="status"),
        Index("ix_outreach_messages_person", "person_key", "created_at"),
        Index("ix_outreach_messages_rule", "rule", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    person_key: Mapped[str] = mapped_column(String(40))
    """"card:<id>", "conv:<id>": whom the weekly limit counts against."""
    occasion: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(40), default="")
    channel: Mapped[str | None] = mapped_column(String(10))
    segments: Mapped[int] = mapped_column(Integer, default=0)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    conversation_id: Mapped[int | None] = mapped_column(BigInteger)
    """The recipient's conversation when there is one (no foreign key: writing it must not
    wait for a turn's lock on that row), for the overview's "what followed"."""
    card_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class OutreachPause(Base):
    """A conversation that said INGEN PÅMINDELSER: no reminders, the bot still answers."""

    __tablename__ = "outreach_pauses"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"),
                                                 primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Announcement(Base):
    """A message a caseworker wrote to the card holders of a municipality, sent by the sweep
    at the allowed hours through the outbox (rule "announcement")."""

    __tablename__ = "outreach_announcements"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'done')", name="status"),
        CheckConstraint("audience IN ('active', 'used', 'never_used', 'digest')",
                        name="audience"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"))
    audience: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
