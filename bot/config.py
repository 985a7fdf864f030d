"""Bot configuration: passed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.voice.offices import Offices


@dataclass(frozen=True)
class BotConfig:
    handoff_response_hours: int = 24
    """What people are told about when a person answers; a municipality's service level."""
    application_response_days: int = 14
    """Expected processing time quoted in the application receipt (a municipal setting)."""
    confident: float = 0.6
    """Above this, a rule question in the middle of a flow is answered before the flow resumes."""
    rate_limit_per_minute: int = 20
    """Messages per sender (channel and address) per minute that are answered; the rest are
    stored unanswered, the first of them with one polite reply. Crisis messages and STOP/START
    always go through. 0 turns the limit off."""
    offices: Offices = field(default_factory=Offices)
    """Who a caller is put through to, per municipality, and when (bot/voice/offices.py)."""
