"""Danish local time for the periodic jobs, which get a `now` rather than a unit of work's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def local_date(now: dt.datetime) -> dt.date:
    return now.astimezone(COPENHAGEN).date()


def local_hour(now: dt.datetime) -> int:
    return now.astimezone(COPENHAGEN).hour
