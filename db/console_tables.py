"""Tables behind the caseworker console: staff accounts, login throttling, internal notes.

Staff are not citizens: they never have a CPR number here, and their passwords are only
kept as argon2 hashes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.tables import Id, UtcDateTime

STAFF_ROLES = ("caseworker", "employer_consultant", "admin", "helper")


class StaffUser(Base):
    """A console account. Caseworkers are bound to one municipality; administrators to none."""

    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('caseworker', 'employer_consultant', 'admin', 'helper')", name="role"),
        CheckConstraint(
            "role = 'admin' OR municipality_code IS NOT NULL", name="municipality_for_role"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(24))
    municipality_code: Mapped[str | None] = mapped_column(ForeignKey("municipalities.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    """Raised on logout and password change, so every older session cookie stops working."""
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class LoginThrottle(Base):
    """Failed console logins per account ("user:NAME") and per address ("addr:IP")."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class EscalationNote(Base):
    """An internal note on an escalated conversation; never sent to the citizen."""

    __tablename__ = "escalation_notes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
