"""What the console pages get from `casework`: frozen values with plain types.

Money is integer øre, times are aware UTC datetimes, days are dates. Nothing here holds a
CPR number in full: `cpr_masked` is the birth date and "xxxx", addresses shown to staff are
masked where the pages do not need them whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ledger.queries import ExportRow

ReportItem = ExportRow
"""A wage report as the console lists it (the export's row: status derived from its entries)."""


# Inbox --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxItem:
    """One open escalation in the inbox (urgent first, then the oldest waiting)."""

    id: int
    conversation_id: int
    urgent: bool
    reason: str
    """"asked_for_person", "crisis:<kind>", ... as the bot recorded it."""
    status: str
    """"waiting" or "taken"."""
    channel: str
    municipality_code: str | None
    created_at: dt.datetime
    waiting_seconds: int
    """Since the escalation was opened, until now."""
    preview: str
    """The sender's latest message, CPR redacted, at most PREVIEW_LENGTH characters."""
    last_message_at: dt.datetime | None
    owner: str | None
    """The owner's display name (or the name given over the REST API)."""
    owner_is_me: bool
    card_number: str | None
    holder_name: str | None
    employer_name: str | None


@dataclass(frozen=True)
class TranscriptEntry:
    """One message of a (merged) transcript, CPR redacted."""

    id: int
    conversation_id: int
    channel: str
    direction: str
    """"in" from the citizen or employer, "out" to them."""
    author: str
    """"user", "bot", "console:<username>", or a name given over the REST API."""
    author_label: str | None
    """A staff member's display name for console authors; None otherwise."""
    from_staff: bool
    text: str
    at: dt.datetime
    delivery: str | None
    """Outbox status of a message sent through the outbox: "pending", "sent" or "dead"."""


@dataclass(frozen=True)
class NoteItem:
    """An internal note on an escalation; never sent to anyone."""

    id: int
    author: str
    author_label: str | None
    text: str
    at: dt.datetime


@dataclass(frozen=True)
class EscalationDetail:
    id: int
    conversation_id: int
    status: str
    urgent: bool
    reason: str
    outcome: str | None
    """"resolved" or "handed_back" once closed from the console."""
    channel: str
    address_masked: str
    municipality_code: str | None
    created_at: dt.datetime
    taken_at: dt.datetime | None
    resolved_at: dt.datetime | None
    waiting_seconds: int
    owner: str | None
    owner_is_me: bool
    card_number: str | None
    holder_name: str | None
    employer_cvr: str | None
    employer_name: str | None
    conversation_ids: tuple[int, ...]
    """Every conversation merged into the transcript (all of a linked citizen's channels)."""
    transcript: tuple[TranscriptEntry, ...]
    notes: tuple[NoteItem, ...]
    last_message_id: int
    """Pass to `messages_since` to poll for what comes next (0 when there are no messages)."""


@dataclass(frozen=True)
class TranscriptUpdate:
    """What changed since the page last looked: new messages, and reply delivery states."""

    entries: tuple[TranscriptEntry, ...]
    deliveries: tuple[tuple[int, str], ...]
    """(message id, outbox status) for every staff reply in the merged transcript."""
    status: str
    last_message_id: int


# Applications -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationItem:
    id: int
    name: str
    status: str
    """"received", "approved" or "rejected"."""
    municipality_code: str | None
    channel: str | None
    received_at: dt.datetime
    decided_at: dt.datetime | None
    processing_seconds: int
    """Received to decided; for an open application, received to now."""
    has_cpr: bool


@dataclass(frozen=True)
class ApplicationDetail:
    id: int
    name: str
    status: str
    cpr_masked: str | None
    cpr_later: bool
    """The applicant chose to give the CPR number later (to the caseworker)."""
    municipality_code: str | None
    municipality_name: str | None
    postcode: str | None
    benefit: str | None
    consent: bool | None
    job_wishes: tuple[str, ...]
    contact_preference: str | None
    helper: str | None
    channel: str | None
    address: str | None
    """The applicant's phone number or Telegram id, so the caseworker can get in touch."""
    address_masked: str | None
    conversation_id: int | None
    received_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_reason: str
    processing_seconds: int
    card_number: str | None


@dataclass(frozen=True)
class ApplicationDecision:
    application_id: int
    status: str
    card_number: str | None
    link_code: str | None
    """Only in the answer to approve: show it once; it is stored as a keyed hash only."""
    valid_from: dt.date | None
    contact_linked: bool
    """The applicant's phone or Telegram now identifies the card holder."""
    message_queued: bool
    """False when there is no conversation to write to, or the applicant wrote STOP."""
    outbox_id: int | None


# Cards --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardItem:
    number: str
    holder_name: str
    status: str
    municipality_code: str
    valid_from: dt.date
    issued_on: dt.date
    last_control_on: dt.date | None
    control_due_on: dt.date
    """The last day of the calendar year by which § 3 stk. 1 requires the next control."""
    control_due: bool
    """Active, and the control must happen this calendar year (or is overdue)."""
    control_overdue: bool


@dataclass(frozen=True)
class YearBalance:
    year: int
    cap_ore: int | None
    cap_is_demo: bool
    earned_ore: int
    """Posted: counted as frikort income."""
    reserved_ore: int
    """Reported, awaiting the employer's confirmation."""
    over_cap_ore: int
    awaiting_cap_ore: int
    left_ore: int | None
    """None while the year's cap is not loaded."""


@dataclass(frozen=True)
class EmploymentItem:
    id: int
    employer_cvr: str
    employer_name: str
    card_number: str
    holder_name: str
    start_date: dt.date
    end_date: dt.date | None
    weekly_hours: Decimal
    contract_required: bool


@dataclass(frozen=True)
class CardEventItem:
    kind: str
    """"issued", "deactivated", "reactivated", "transferred" or "controlled"."""
    effective_on: dt.date
    reason: str
    municipality_code: str
    actor: str
    at: dt.datetime


@dataclass(frozen=True)
class ContactItem:
    id: int
    kind: str
    """"phone" or "telegram"."""
    masked: str
    linked_at: dt.datetime


@dataclass(frozen=True)
class CardDetail:
    number: str
    holder_name: str
    cpr_masked: str
    municipality_code: str
    municipality_name: str
    status: str
    valid_from: dt.date
    issued_on: dt.date
    last_control_on: dt.date | None
    control_due_on: dt.date
    control_due: bool
    control_overdue: bool
    balances: tuple[YearBalance, ...]
    """Every year with activity, and the current year; newest first."""
    reports: tuple[ReportItem, ...]
    """Newest first."""
    employments: tuple[EmploymentItem, ...]
    history: tuple[CardEventItem, ...]
    """Oldest first."""
    contacts: tuple[ContactItem, ...]
    link_code_issued_at: dt.datetime | None


# Employers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmployerItem:
    cvr: str
    name: str
    verified: bool
    verified_at: dt.datetime | None
    contact_person: str
    employments: int
    """Employments of card holders the user may see."""


@dataclass(frozen=True)
class EmployerDetail:
    cvr: str
    name: str
    verified: bool
    verified_at: dt.datetime | None
    contact_person: str
    registered_at: dt.datetime
    contacts: tuple[ContactItem, ...]
    employments: tuple[EmploymentItem, ...]
    """Only with card holders the user may see (their own municipality; admin: all)."""
    reports: tuple[ReportItem, ...]
    """As `employments`; newest first."""


# Overview -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageYear:
    year: int
    granted: int
    """Cards issued by the end of the year (deactivated ones included)."""
    used: int
    """Cards with at least one posted report paid in the year."""


@dataclass(frozen=True)
class Count:
    key: str
    count: int


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    count: int


@dataclass(frozen=True)
class FallbackItem:
    """A message the bot did not understand (the same words counted together), CPR redacted."""

    text: str
    count: int
    last_at: dt.datetime


@dataclass(frozen=True)
class Overview:
    year: int
    municipality_code: str | None
    """None: every municipality (administrators only)."""
    usage: tuple[UsageYear, ...]
    """The year and the two before it, oldest first."""
    applications_by_status: tuple[Count, ...]
    """Applications received in the year, per status (every status listed, zeros included)."""
    processing_median_seconds: int | None
    processing_mean_seconds: int | None
    """Received to decided, over the year's decided applications."""
    conversations_per_day: tuple[DayCount, ...]
    """Conversations with at least one message from the citizen, per day, last RECENT_DAYS."""
    escalations_opened: int
    escalations_urgent: int
    escalations_taken: int
    response_median_seconds: int | None
    """Opened to taken, over the year's taken escalations."""
    fallbacks: tuple[FallbackItem, ...]
    """Most recent first, last RECENT_DAYS."""
    fallback_total: int
