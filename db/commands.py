"""What every command shares: frozen, validated, no NUL; and the actor written to the audit
log with every change, whichever domain the command belongs to."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Channel = Literal["api", "sms", "telegram", "web", "voice", "console", "cli", "system"]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        """PostgreSQL text cannot hold NUL: refused here, before any write, on every database."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


class Actor(Command):
    """Who asks, and through which channel: written to the audit log with every change."""

    name: str = Field(min_length=1, max_length=120)
    channel: Channel
