"""Typed commands for `smalljobs` (the pydantic models the bot and console build).

Only types are checked here; the rules (a known postcode, a window not in the past, sane
pay, 1 to 20 places, the length of the texts) are checked by the service, which refuses with
a typed error and a Danish message, so the bot and the console can show it as it is.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from db.commands import Command
from ledger.results import WageReportResult
from smalljobs.records import AssignmentView, CancelledBy, DigestView, Frequency, TaskView, Via


class PostTask(Command[TaskView]):
    """An employer's small job: what, where, when (a window, not a deadline), pay, places."""

    employer_cvr: str
    title: str
    postcode: str
    window_start: dt.date
    window_end: dt.date
    expected_hours: Decimal
    pay_per_hour_ore: int
    places: int = 1
    audience: Literal["open", "own_list"] = "open"
    description: str = ""
    place: str = ""


class CancelTask(Command[TaskView]):
    """Cancels a task and every place held on it. `employer_cvr`: the employer asking (another
    employer's task is not found); None when staff cancel, scoped by the console."""

    task_id: int
    employer_cvr: str | None


class TakeTask(Command[AssignmentView]):
    """Reserves a place for a card holder, themselves or through a helper's phone list."""

    task_id: int
    card_number: str
    via: Via
    helper: str | None = None
    consent_note: str | None = None


class ConfirmAssignment(Command[AssignmentView]):
    assignment_id: int
    employer_cvr: str


class CancelAssignment(Command[AssignmentView]):
    """Either side (or staff) cancels a place; `employer_cvr` / `card_number`, when given,
    must be the assignment's own (else it is not found)."""

    assignment_id: int
    by: CancelledBy
    reason: str = ""
    employer_cvr: str | None = None
    card_number: str | None = None


class MarkNoShow(Command[AssignmentView]):
    assignment_id: int
    employer_cvr: str


class RecordTaskHours(Command[WageReportResult]):
    """The employer's hours and pay for a confirmed place: a posted wage report."""

    assignment_id: int
    employer_cvr: str
    hours: Decimal
    amount_ore: int
    idempotency_key: str


class SubscribeDigest(Command[DigestView]):
    card_number: str
    postcode: str
    frequency: Frequency


class UnsubscribeDigest(Command[bool]):
    """Ends the holder's digest; the result says whether there was one to end."""

    card_number: str
