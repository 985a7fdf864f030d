"""Who a caller is put through to: the municipality's number within its opening hours.

A setting per municipality (the operator's YAML file, see README "Voice"): its name, phone
number, opening hours in Danish time, and days it is closed. Outside the hours, or for a
municipality without a number, the caller's request to be rung back goes to the inbox.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

DANISH_TIME = ZoneInfo("Europe/Copenhagen")
DAYS = ("man", "tir", "ons", "tor", "fre", "lør", "søn")


class OfficesError(ValueError):
    """The offices file says something that cannot be right (a bad number, day or time)."""


@dataclass(frozen=True)
class Office:
    name: str
    phone: str
    """E.164, dialled as it is."""
    hours: dict[int, tuple[tuple[dt.time, dt.time], ...]] = field(default_factory=dict)
    """Weekday (Monday 0) to its opening periods, Danish time."""
    closed: frozenset[dt.date] = frozenset()

    def open_at(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(DANISH_TIME)
        if local.date() in self.closed:
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.hours.get(local.weekday(), ()))


@dataclass(frozen=True)
class Offices:
    municipalities: dict[str, Office] = field(default_factory=dict)
    default: Office | None = None
    """For callers whose municipality is not known (an unknown number, an employer)."""

    def for_municipality(self, code: str | None) -> Office | None:
        found = self.municipalities.get(code) if code else None
        return found or self.default


def _time(text: str) -> dt.time:
    return dt.time(0) if text == "24:00" else dt.time.fromisoformat(text)


def _office(raw: dict[str, Any], where: str) -> Office:
    phone = str(raw.get("phone", "")).replace(" ", "")
    if not (phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) <= 16):
        raise OfficesError(f"{where}: phone must be an E.164 number, e.g. +4589402000")
    hours: dict[int, tuple[tuple[dt.time, dt.time], ...]] = {}
    for day, spans in (raw.get("hours") or {}).items():
        if day not in DAYS:
            raise OfficesError(f"{where}: unknown day {day!r} (use {', '.join(DAYS)})")
        periods = []
        for span in str(spans).split(","):
            try:
                start, end = (part.strip() for part in span.split("-"))
                opens, closes = _time(start), _time(end)
            except ValueError as error:
                raise OfficesError(f"{where}: {day}: {span!r} is not HH:MM-HH:MM") from error
            periods.append((opens, closes if closes != dt.time(0) else dt.time.max))
        hours[DAYS.index(day)] = tuple(periods)
    try:
        closed = frozenset(dt.date.fromisoformat(str(d)) for d in raw.get("closed") or ())
    except ValueError as error:
        raise OfficesError(f"{where}: closed days must be YYYY-MM-DD") from error
    return Office(name=str(raw.get("name") or "kommunen"), phone=phone, hours=hours,
                  closed=closed)


def parse_offices(raw: dict[str, Any] | None) -> Offices:
    """The offices from the file's YAML; an empty file puts nobody through (callbacks only)."""
    raw = raw or {}
    found = {str(code): _office(entry, f"municipality {code}")
             for code, entry in (raw.get("municipalities") or {}).items()}
    default = _office(raw["default"], "default") if raw.get("default") else None
    return Offices(found, default)
