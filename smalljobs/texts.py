"""The Danish messages about small jobs, from smalljobs/data/tasks.da.yml, and how the values
in them are written (days, hours, money, places)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml

from danish.money import format_danish, format_danish_whole
from danish.wording import first_name
from smalljobs.records import TaskView

__all__ = ["first_name", "text", "when", "where", "hours", "money", "status_word"]


@cache
def _texts() -> dict[str, str]:
    raw = resources.files("smalljobs").joinpath("data/tasks.da.yml").read_text("utf-8")
    return {key: " ".join(str(value).split()) for key, value in yaml.safe_load(raw).items()}


def text(key: str, **values: Any) -> str:
    """The message `key` with its placeholders filled; a missing value is a programming error."""
    return _texts()[key].format(**values)


def _day(day: dt.date) -> tuple[str, str]:
    weekday = _texts()["weekdays"].split()[day.weekday()]
    return weekday, f"{day.day}/{day.month}"


def when(task: TaskView) -> str:
    """"fre 27/11" or "fre 27/11 til søn 29/11": a window of days, not a deadline."""
    weekday, day = _day(task.window_start)
    if task.window_end == task.window_start:
        return text("window_one_day", weekday=weekday, day=day)
    last_weekday, last_day = _day(task.window_end)
    return text("window_days", weekday=weekday, day=day, last_weekday=last_weekday,
                last_day=last_day)


def where(task: TaskView) -> str:
    if task.place:
        return text("where_place", place=task.place, postcode=task.postcode, town=task.town)
    return text("where_town", postcode=task.postcode, town=task.town)


def hours(value: Decimal) -> str:
    """3 or 2,5 (Danish decimal comma, no trailing zeros)."""
    return f"{value.normalize():f}".replace(".", ",")


def money(ore: int) -> str:
    """Whole kroner without decimals ("450 kr."), else with them ("437,50 kr.")."""
    return format_danish_whole(ore) if ore % 100 == 0 else format_danish(ore)


def status_word(status: str) -> str:
    return text(f"status_{status}")
