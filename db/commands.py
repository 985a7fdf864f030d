"""What every command shares: frozen, validated, no NUL, and the type of result its handler
gives back (`Command[R]`), so a command run through the registry (`db/handlers.py`) stays
typed; and the actor written to the audit log with every change, whichever domain it is."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

Channel = Literal["api", "sms", "telegram", "web", "voice", "console", "cli", "system"]
R = TypeVar("R")


class Checked(BaseModel):
    """Frozen, no unknown fields, no NUL in any text: what a command and an actor share."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        """PostgreSQL text cannot hold NUL: refused here, before any write, on every database."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL characters")
        return value


class Command(Checked, Generic[R]):
    """A request to change something; `R` is what its handler returns (`ReportWage` is a
    `Command[WageReportResult]`)."""


class Actor(Checked):
    """Who asks, and through which channel: written to the audit log with every change."""

    name: str = Field(min_length=1, max_length=120)
    channel: Channel
