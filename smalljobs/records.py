"""What `smalljobs` answers with: frozen values with plain types.

Money is integer øre, times are aware UTC datetimes, days are dates, hours are Decimal. A
`TaskView` holds no personal data (it is what card holders and notice boards see); an
`AssignmentView` holds the holder's first name and Frikort-ID only, which the employer may
see once the holder has taken the task.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

Audience = Literal["open", "own_list"]
TaskStatus = Literal["open", "filled", "cancelled", "expired", "done"]
AssignmentStatus = Literal["reserved", "confirmed", "cancelled", "no_show", "done"]
Via = Literal["sms", "telegram", "web", "console", "helper", "voice"]
CancelledBy = Literal["holder", "employer", "staff"]
Frequency = Literal["daily", "weekly"]
AUDIENCES: tuple[Audience, ...] = get_args(Audience)
TASK_STATUS_VALUES: tuple[TaskStatus, ...] = get_args(TaskStatus)
FREQUENCIES: tuple[Frequency, ...] = get_args(Frequency)


@dataclass(frozen=True)
class TaskView:
    """A small job as anyone may see it: what, where, when, how long, the pay."""

    id: int
    employer_cvr: str
    employer_name: str
    title: str
    description: str
    place: str
    """Free text: "Baghaven, Vestergade 3" (what the employer chose to say)."""
    postcode: str
    town: str
    municipality_code: str
    window_start: dt.date
    window_end: dt.date
    expected_hours: Decimal
    pay_per_hour_ore: int
    places: int
    places_taken: int
    """Reserved, confirmed or done assignments (cancelled and no-shows free the place)."""
    audience: Audience
    status: TaskStatus
    created_at: dt.datetime

    @property
    def places_free(self) -> int:
        return max(self.places - self.places_taken, 0)


@dataclass(frozen=True)
class AssignmentView:
    """A card holder's place on a task."""

    id: int
    task: TaskView
    card_number: str
    holder_first_name: str
    status: AssignmentStatus
    via: Via
    helper: str | None
    """The helper's username when a helper signed the holder up."""
    reserved_at: dt.datetime
    confirmed_at: dt.datetime | None
    ended_at: dt.datetime | None
    """When it was cancelled, marked no-show or done."""
    wage_report_id: int | None
    hours_prompted_at: dt.datetime | None = None
    """When the employer was asked for hours and pay (see `pending_hour_prompts`)."""
    cancelled_by: CancelledBy | None = None


@dataclass(frozen=True)
class KnownPerson:
    """Someone on an employer's own list ("adopt" model): first name and Frikort-ID only."""

    card_number: str
    first_name: str
    added_at: dt.datetime


@dataclass(frozen=True)
class PhoneListEntry:
    """A card holder on a helper's phone list (the værested's list of who wants small jobs).

    The helper knows the person, so the full name is shown; never the CPR number.
    """

    id: int
    card_number: str
    holder_name: str
    holder_first_name: str
    consent_note: str
    added_by: str
    """The helper's username."""
    added_at: dt.datetime
    phone_masked: str | None
    """The holder's linked phone, masked ("+45 •• •• 12 34"), if any."""


@dataclass(frozen=True)
class DigestView:
    """A card holder's opt-in to hear about new tasks near a postcode."""

    card_number: str
    postcode: str
    frequency: Frequency
    last_sent_at: dt.datetime | None


@dataclass(frozen=True)
class TaskStats:
    """Console figures for tasks posted on or after `since` (in the user's municipality)."""

    posted: int
    filled: int
    """Tasks whose every place was taken at some point (filled or done)."""
    fill_rate: float
    """filled / posted, 0.0 when nothing was posted."""
    median_hours_to_fill: float | None
    """Hours from posting until the last place was taken; None when nothing filled."""
    expired_unfilled: int
