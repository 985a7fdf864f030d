"""What staff see and write: CPR numbers redacted, addresses masked, free text checked.

The bot already redacts CPR numbers in inbound messages before storing them (with
`nlu.redact_cpr`, which the ledger may not import); the console redacts again on the way out,
so a number in a bot reply, a staff reply or an older row is never shown in full either. The
pattern and the "[CPR]" marker match the NLU's, and a test keeps the two in step.
"""

from __future__ import annotations

import re

from ledger.errors import CprInText, InvalidCpr, LedgerError, TextRequired, TextTooLong
from ledger.pii import normalise_cpr

CPR_MARK = "[CPR]"
_CPR = re.compile(r"(?<![\d+])(?<!\d[ -])\d{6}[ -]?\d{4}(?![\d]|[ -]\d)")

NOTE_MAX = 4000
MESSAGE_MAX = 1600
"""Ten SMS segments: the outbox's channels all take this."""
REASON_MAX = 2000
"""The commands' own bound on a reason."""


def _is_cpr(candidate: str) -> bool:
    try:
        normalise_cpr(candidate)
    except InvalidCpr:
        return False
    return True


def redact_cpr(text: str) -> str:
    """Every ten-digit number that starts with a real date becomes "[CPR]"."""
    return _CPR.sub(lambda m: CPR_MARK if _is_cpr(m.group()) else m.group(), text)


def contains_cpr(text: str) -> bool:
    return any(_is_cpr(m.group()) for m in _CPR.finditer(text))


def clean_text(
    text: str, max_length: int, *, missing: type[LedgerError] = TextRequired
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
