"""How long an inbound message may be: an SMS is at most 1.600 characters (ten segments, what
Twilio delivers), a Telegram text at most 4.096. Anything longer did not come from a phone;
it is cut, with a note in the transcript saying so, before the dialogue or the database sees
it (a signed 1 MB SMS body was stored whole before, issue 14)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

SMS_MAX_CHARS = 1600
TELEGRAM_MAX_CHARS = 4096


@cache
def _notes() -> dict[str, str]:
    text = resources.files("api").joinpath("data/inbound.da.yml").read_text("utf-8")
    return dict(yaml.safe_load(text))


def note(key: str, **values: object) -> str:
    """A Danish note or toast from api/data/inbound.da.yml."""
    return _notes()[key].format(**values)


def cut(text: str, limit: int) -> str:
    """`text` itself when it fits, else its first `limit` characters and the note."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} {note('cut', length=len(text), kept=limit)}"
