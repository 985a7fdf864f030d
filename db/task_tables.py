"""Tables behind small jobs (issue 6): tasks, the places taken on them, employers' own lists,
digest opt-ins and helpers' phone lists.

`tasks.places_taken` is kept by the service under the task's row lock and checked by the
database too (never above `places`), so two people can never hold the last place.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
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

TASK_STATUSES = ("open", "filled", "cancelled", "expired", "done")
ASSIGNMENT_STATUSES = ("reserved", "confirmed", "cancelled", "no_show", "done")
ACTIVE_ASSIGNMENT = ("reserved", "confirmed", "done")
"""Statuses that hold a place on the task."""
HELD = ("reserved", "confirmed")
"""Statuses still open: the holder may come, either side may cancel."""
VIAS = ("sms", "telegram", "web", "console", "helper", "voice")


class Task(Base):
    """An employer's small job: a window of days, expected hours, pay per hour, places."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("status IN " + str(TASK_STATUSES), name="status"),
        CheckConstraint("audience IN ('open', 'own_list')", name="audience"),
        CheckConstraint("places BETWEEN 1 AND 20", name="places"),
        CheckConstraint("places_taken >= 0 AND places_taken <= places", name="places_taken"),
        CheckConstraint("window_end >= window_start", name="window"),
        CheckConstraint("expected_hours_centi > 0", name="expected_hours"),
        CheckConstraint("pay_per_hour_ore > 0", name="pay"),
        Index("ix_tasks_status_municipality", "status", "municipality_code", "window_end"),
        Index("ix_tasks_employer_status", "employer_id", "status"),
        Index("ix_tasks_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(4))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"))
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    expected_hours_centi: Mapped[int] = mapped_column(Integer)
    pay_per_hour_ore: Mapped[int] = mapped_column(BigInteger)
    places: Mapped[int] = mapped_column(Integer)
    places_taken: Mapped[int] = mapped_column(Integer, default=0)
    audience: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    filled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    """When the last free place was first taken (time to fill, for the console)."""
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    """When it was cancelled, expired or done."""


class TaskAssignment(Base):
    """A card holder's place on a task. One row per task and card: taking a task again after
    cancelling it reopens the same row (the audit log keeps the history)."""

    __tablename__ = "task_assignments"
    __table_args__ = (
        UniqueConstraint("task_id", "card_id", name="task_card"),
        CheckConstraint("status IN " + str(ASSIGNMENT_STATUSES), name="status"),
        CheckConstraint("via IN " + str(VIAS), name="via"),
        CheckConstraint(
            "cancelled_by IS NULL OR cancelled_by IN ('holder', 'employer', 'staff')",
            name="cancelled_by"),
        CheckConstraint(
            "via <> 'helper' OR (helper IS NOT NULL AND consent_note IS NOT NULL)",
            name="helper_consent"),
        Index("ix_task_assignments_card_status", "card_id", "status"),
        Index("ix_task_assignments_status_prompted", "status", "hours_prompted_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    status: Mapped[str] = mapped_column(String(10))
    via: Mapped[str] = mapped_column(String(10))
    helper: Mapped[str | None] = mapped_column(String(64))
    """The helper's console username when a helper signed the holder up."""
    consent_note: Mapped[str | None] = mapped_column(Text)
    reserved_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(10))
    hours_prompted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    wage_report_id: Mapped[int | None] = mapped_column(ForeignKey("wage_reports.id"))


class EmployerKnownPerson(Base):
    """The employer's own list ("adopt" model): card holders it knows and offers tasks to."""

    __tablename__ = "employer_known_people"

    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class JobDigest(Base):
    """A card holder's opt-in to a daily or weekly message about new tasks near a postcode."""

    __tablename__ = "job_digests"
    __table_args__ = (CheckConstraint("frequency IN ('daily', 'weekly')", name="frequency"),)

    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    postcode: Mapped[str] = mapped_column(String(4))
    frequency: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    seen_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    """Tasks created after this are new to the holder (moved on with every digest sent)."""


class HelperPhoneListEntry(Base):
    """A card holder on a helper's phone list, with the consent the helper recorded."""

    __tablename__ = "helper_phone_list"
    __table_args__ = (UniqueConstraint("staff_user_id", "card_id", name="staff_card"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    consent_note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
