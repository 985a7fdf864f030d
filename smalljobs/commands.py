"""Typed commands for `smalljobs` (the pydantic models the bot and console build).

Only types are checked here; the rules (a known postcode, a window not in the past, sane
pay, 1 to 20 places, the length of the texts) are checked by the service, which refuses with
a typed error and a Danish message, so the bot and the console can show it as it is.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from db.commands import Command


class PostTask(Command):
    """An employer's small job: what, where, when (a window, not a deadline), pay, places."""

    employer_cvr: str
    title: str
    postcode: str
    window_start: dt.date
    window_end: dt.date
    expected_hours: Decimal
    pay_per_hour_ore: int
    places: int = 1
    audience: Literal["open", "own_list"] = "open"
    description: str = ""
    place: str = ""
