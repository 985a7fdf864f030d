"""What staff see and write: CPR numbers redacted, addresses masked, free text checked.

The bot already redacts CPR numbers in inbound messages before storing them; the console
redacts again on the way out, so a number in a bot reply, a staff reply or an older row is
never shown in full either. Both use `cpr.redact_cpr`, the one redaction of the project.
"""

from __future__ import annotations

from cpr import CPR_MASK, contains_cpr, redact_cpr
from db.errors import DomainError
from staff.errors import CprInText, TextRequired, TextTooLong

__all__ = ["CPR_MARK", "clean_text", "contains_cpr", "mask_address", "preview", "redact_cpr"]

CPR_MARK = CPR_MASK

NOTE_MAX = 4000
MESSAGE_MAX = 1600
"""Ten SMS segments: the outbox's channels all take this."""
REASON_MAX = 2000
"""The commands' own bound on a reason."""


def clean_text(
    text: str, max_length: int, *, missing: type[DomainError] = TextRequired
) -> str:
    """Staff free text, trimmed: refused when empty, too long, or carrying a CPR number
    (SMS and Telegram are no place for one, and notes and reasons are shown to others)."""
    cleaned = text.strip()
    if not cleaned:
        raise missing()
    if len(cleaned) > max_length:
        raise TextTooLong(max_length=max_length)
    if contains_cpr(cleaned):
        raise CprInText()
    return cleaned


def mask_address(kind_or_channel: str, address: str) -> str:
    """A phone number or Telegram id with all but its last two digits hidden."""
    if kind_or_channel == "telegram":
        return f"Telegram …{address[-2:]}" if len(address) > 2 else "Telegram …"
    if address.startswith("+45") and len(address) == 11:
        return f"+45 xx xx xx {address[-2:]}"
    if address.startswith("+") and len(address) > 4:
        return f"{address[:3]} … {address[-2:]}"
    return "…" + address[-2:] if len(address) > 2 else "…"


def preview(text: str, length: int) -> str:
    """A one-line, CPR-redacted beginning of a message."""
    flat = " ".join(redact_cpr(text).split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"
