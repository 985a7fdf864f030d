"""The table of scoped API keys for payroll and municipal systems (the admin key is a setting).

A key is shown once, when it is made; only its SHA-256 is kept. Keys are 32 random bytes, so
a fast hash is enough (nothing to guess), and checking one costs microseconds per request.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.tables import Id, UtcDateTime

API_KEY_KINDS = ("employer", "municipality")


class ApiKey(Base):
    """One key: whose it is (an employer's CVR or a municipality), when it was last used."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("kind IN ('employer', 'municipality')", name="kind"),
        CheckConstraint("kind <> 'employer' OR (employer_id IS NOT NULL"
                        " AND municipality_code IS NULL)", name="employer_scope"),
        CheckConstraint("kind <> 'municipality' OR (municipality_code IS NOT NULL"
                        " AND employer_id IS NULL)", name="municipality_scope"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    """The key's public first part: how a request finds its row, and how people tell keys apart."""
    secret_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the whole key."""
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"))
    municipality_code: Mapped[str | None] = mapped_column(ForeignKey("municipalities.code"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
