"""Table mappings. Rows only store what the service layer decided; rules live in `ledger.rules`.

Append-only tables (enforced by triggers, see `ledger.db.triggers`): wage_reports,
ledger_entries, card_events, cap_versions, audit_log, idempotency_records.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from db.base import Base


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timestamps go in and come out as aware UTC, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Municipality(Base):
    __tablename__ = "municipalities"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(40))


class Citizen(Base):
    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cpr_hash: Mapped[str] = mapped_column(String(64), unique=True)
    cpr_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    language: Mapped[str] = mapped_column(String(8), default="da")
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CitizenContact(Base):
    """A phone number (E.164) or Telegram user id through which a citizen is known."""

    __tablename__ = "citizen_contacts"
    __table_args__ = (
        UniqueConstraint("kind", "address", name="kind_address"),
        CheckConstraint("kind IN ('phone', 'telegram')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class EmployerContact(Base):
    """A phone number or Telegram user id that may act for an employer."""

    __tablename__ = "employer_contacts"
    __table_args__ = (
        UniqueConstraint("kind", "address", "employer_id", name="kind_address_employer"),
        CheckConstraint("kind IN ('phone', 'telegram')", name="kind"),
        Index("ix_employer_contacts_address", "kind", "address"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"))
    kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Card(Base):
    __tablename__ = "cards"
    __table_args__ = (CheckConstraint("status IN ('active', 'deactivated')", name="status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(5), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    last_control_on: Mapped[dt.date | None] = mapped_column(Date)


class CardEvent(Base):
    """Dated history of a card: issue, deactivation, reactivation, transfer, control."""

    __tablename__ = "card_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('issued', 'deactivated', 'reactivated', 'transferred', 'controlled')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"))
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Employer(Base):
    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cvr: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_person: Mapped[str] = mapped_column(String(200), default="")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Employment(Base):
    __tablename__ = "employments"
    __table_args__ = (
        UniqueConstraint("employer_id", "card_id", "start_date", name="employer_card_start"),
        CheckConstraint("weekly_hours_centi >= 0", name="weekly_hours"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    weekly_hours_centi: Mapped[int] = mapped_column(Integer)
    contract_required: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CapVersion(Base):
    """Each time an operator sets a year's cap; the newest row for a year is in force."""

    __tablename__ = "cap_versions"
    __table_args__ = (CheckConstraint("amount_ore > 0", name="amount"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CardBalance(Base):
    """Materialised per card and year, locked by every writer; equals the sum of its entries."""

    __tablename__ = "card_balances"
    __table_args__ = (
        CheckConstraint("posted_ore >= 0 AND pending_ore >= 0 AND over_cap_ore >= 0 AND awaiting_ore >= 0", name="sign"),
        CheckConstraint("posted_ore + pending_ore <= cap_ore", name="within_cap"),
    )

    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    cap_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    posted_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    over_cap_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    awaiting_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    """Reported while the year's cap was not loaded: stored, counted once the cap is set."""
    entry_count: Mapped[int] = mapped_column(Integer, default=0)


class WageReport(Base):
    """What the employer reported, as received. Immutable; its life is in `LedgerEntry`."""

    __tablename__ = "wage_reports"
    __table_args__ = (
        CheckConstraint("amount_ore > 0", name="amount"),
        CheckConstraint("hours_centi >= 0", name="hours"),
        CheckConstraint("work_to >= work_from", name="work_period"),
        Index("ix_wage_reports_card_year", "card_id", "year"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    employment_id: Mapped[int] = mapped_column(ForeignKey("employments.id"))
    year: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    work_from: Mapped[dt.date] = mapped_column(Date)
    work_to: Mapped[dt.date] = mapped_column(Date)
    hours_centi: Mapped[int] = mapped_column(Integer)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    post_on_create: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    """When an unconfirmed report stops reserving room under the cap."""
    source_channel: Mapped[str] = mapped_column(String(16))
    source_message_id: Mapped[str | None] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


RESERVED_NOTHING = "kind = 'reserve' AND counted_ore = 0"
"""The condition of the partial index `ix_ledger_entries_reserved_nothing`."""

ENTRY_KINDS = (
    "await_cap", "confirm", "reserve", "post", "post_direct", "void", "expire", "reverse",
)


class LedgerEntry(Base):
    """One step in a report's life, with its effect on the card-year balance.

    A report gets at most one entry of each kind (unique), so a post, void or reversal
    can happen once only, whatever retries arrive.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("report_id", "kind", name="report_kind"),
        CheckConstraint("kind IN " + str(ENTRY_KINDS), name="kind"),
        CheckConstraint("counted_ore >= 0 AND over_cap_ore >= 0", name="split_sign"),
        Index("ix_ledger_entries_card_year", "card_id", "year"),
        # Reservations of nothing (reports wholly over the cap): the expiry sweep finds the
        # open ones here without reading the history (ledger.service.due_reservations).
        Index("ix_ledger_entries_reserved_nothing", "report_id",
              postgresql_where=text(RESERVED_NOTHING), sqlite_where=text(RESERVED_NOTHING)),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("wage_reports.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    counted_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    over_cap_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    awaiting_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    posted_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    over_cap_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class IdempotencyRecord(Base):
    """The first answer given for a key, replayed byte for byte on a retry."""

    __tablename__ = "idempotency_records"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int] = mapped_column(ForeignKey("wage_reports.id"))
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AuditRecord(Base):
    """Who changed what, append-only and hash-chained (ledger/audit_chain.py)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(40))
    details_json: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    """The previous row's row_hash (ledger/audit_chain.py); the first row's is 64 zeros."""
    row_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 over prev_hash and this row's columns: the chain `frikort audit verify` walks."""
