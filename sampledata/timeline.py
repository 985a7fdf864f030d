"""Time in the synthetic data: whole seconds since the epoch, days as ordinals, Danish days.

Plain integers keep a million rows small in memory and cheap to sort; they become aware UTC
datetimes and dates only when written.
"""

from __future__ import annotations

import datetime as dt

from sampledata.plan import DK

DAY = 86_400
HOUR = 3_600


class Timeline:
    """Converts between Danish calendar days and UTC seconds, up to `now`."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = int(now.timestamp())
        self.today = now.astimezone(DK).date().toordinal()
        self._midnights: dict[int, int] = {}

    def midnight(self, day: int) -> int:
        """The first second of a Danish calendar day (a date ordinal)."""
        found = self._midnights.get(day)
        if found is None:
            start = dt.datetime.combine(dt.date.fromordinal(day), dt.time(), tzinfo=DK)
            found = self._midnights[day] = int(start.timestamp())
        return found

    def at(self, day: int, seconds: int) -> int:
        """A moment `seconds` into a Danish day, never later than a minute before now."""
        return min(self.midnight(day) + seconds, self.now - 60)


def utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def day(ordinal: int) -> dt.date:
    return dt.date.fromordinal(ordinal)


def ordinal(year: int, month: int, day_of_month: int) -> int:
    return dt.date(year, month, day_of_month).toordinal()
