"""The ledger's "today" is the Danish calendar day, whatever the machine's clock zone is."""

from __future__ import annotations

import datetime as dt

import pytest

from db.unit_of_work import danish_day


@pytest.mark.parametrize(("moment", "day"), [
    (dt.datetime(2026, 12, 6, 22, 59, tzinfo=dt.UTC), dt.date(2026, 12, 6)),
    (dt.datetime(2026, 12, 6, 23, 0, tzinfo=dt.UTC), dt.date(2026, 12, 7)),  # winter: UTC+1
    (dt.datetime(2026, 6, 30, 22, 0, tzinfo=dt.UTC), dt.date(2026, 7, 1)),  # summer: UTC+2
    (dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), dt.date(2027, 1, 1)),  # a new cap year
])
def test_the_day_in_denmark(moment: dt.datetime, day: dt.date) -> None:
    assert danish_day(moment) == day
