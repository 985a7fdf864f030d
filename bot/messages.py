"""What goes in and out of the dialogue: no channel's types, only plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Channel = Literal["sms", "telegram", "web"]


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


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[str, ...] = ()
    """Quick answers a channel may show as buttons (Telegram, web); SMS shows only the text."""
