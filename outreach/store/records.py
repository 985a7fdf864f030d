"""Values the outreach store hands out: who a rule would write to, and what became of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Target = Literal["card", "conversation"]


@dataclass(frozen=True)
class RuleParams:
    """A rule's row in `outreach_rules`: the timing the store's queries use."""

    name: str
    text_id: str
    who: str
    timing: str
    delay_hours: int
    every_days: int
    enabled: bool


@dataclass(frozen=True)
class Candidate:
    """One message a rule would send: to a card's holder or to one conversation."""

    rule: str
    target: Target
    target_id: int
    occasion: str
    values: dict[str, str | int] = field(default_factory=dict)
    """What the text is filled with (amounts in øre, dates as text)."""
    covers: tuple[str, ...] = ()
    """Lower occasions this one makes moot (80 % when 95 % is crossed at once): recorded as
    skipped, so they are never sent later."""

    @property
    def person_key(self) -> str:
        return f"{'card' if self.target == 'card' else 'conv'}:{self.target_id}"


@dataclass(frozen=True)
class Recipient:
    channel: str
    address: str
    conversation_id: int | None


@dataclass(frozen=True)
class ConsentFacts:
    """Everything the consent policy decides on, read in the sending transaction."""

    recipient: Recipient | None
    """The person's own linked channel (None: no linked contact, or only the web chat)."""
    opted_out: bool
    """STOP on any of the person's conversations."""
    reminders_off: bool
    """INGEN PÅMINDELSER on any of them."""
    card_status: str | None
    sent_last_week: int
    """Outreach messages queued to this person in the 7 days before now."""
    now: dt.datetime


@dataclass(frozen=True)
class Refusal:
    """Why the policy will not send now; `later`: keep the key free and try at the next sweep
    (the weekly limit, quiet hours), else the key is recorded as skipped for good."""

    reason: str
    later: bool = False


@dataclass(frozen=True)
class Outcome:
    """What the sweep did for one candidate (a dry run reports the same, and keeps nothing)."""

    rule: str
    occasion: str
    person_key: str
    status: Literal["queued", "skipped", "deferred", "taken"]
    """"taken": another worker, or an earlier sweep, already handled this key; "deferred":
    not now, nothing recorded (the next sweep asks again)."""
    reason: str
    channel: str | None
    recipient: str | None
    text: str
    segments: int
