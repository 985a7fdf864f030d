"""Bot configuration: passed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BotConfig:
    handoff_response_hours: int = 24
    """What people are told about when a person answers; a municipality's service level."""
    application_response_days: int = 14
    """Expected processing time quoted in the application receipt (a municipal setting)."""
    confident: float = 0.6
    """Above this, a rule question in the middle of a flow is answered before the flow resumes."""
