"""What goes in and out of the dialogue: no channel's types, only plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Channel = Literal["sms", "telegram", "web", "voice"]

VOICE_JOINS: dict[str, Channel] = {"voice": "sms"}
"""A phone call is kept in the caller's SMS conversation: one number, one state (a flow in
progress, an open escalation, STOP), whether the person texts or calls."""


@dataclass(frozen=True)
class InboundMessage:
    channel: Channel
    sender: str
    """E.164 phone for SMS, the chat id for Telegram, a session id for the web demo."""
    text: str
    provider_message_id: str
    received_at: dt.datetime | None = None
    shared_phone: str | None = None
    """A phone number the sender shared as their own contact (Telegram's contact button)."""
    joins: Channel | None = None
    """The channel whose conversation this message belongs to, when not its own: by default a
    call joins the caller's SMS conversation (`VOICE_JOINS`); the demo's calls join its web chat."""
    proven: bool = True
    """Whether the sender may hear their own figures. False for a caller who has not yet keyed
    the last two digits of their Frikort-ID: a caller's number can be faked more easily than
    it can be reached by SMS."""

    @property
    def conversation_channel(self) -> Channel:
        """The conversation (and so the state and the lock) this message belongs to."""
        return self.joins or VOICE_JOINS.get(self.channel, self.channel)


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[str, ...] = ()
    """Quick answers a channel may show as buttons (Telegram, web); SMS shows only the text."""
    outbox_id: int | None = None
    """Set when the reply was queued leased to the caller, who sends it at once
    (`Dialogue.handle(deliver_here=True)`); None when the outbox worker delivers it."""
