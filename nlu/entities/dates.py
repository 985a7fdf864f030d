"""Dates → ISO strings resolved against a reference day ("today"), leaning towards the past.

Wages are reported for work already done, so:
  * a plain weekday ("mandag", "fredag d.") is the most recent such day on or before today;
  * "i mandags" / "sidste mandag" is the most recent one strictly before today;
  * "på mandag" / "næste mandag" is the next one strictly after today;
  * a day and month without a year ("20/11", "d. 3.12", "20. november") is the nearest such
    date that is at most 60 days ahead of today, otherwise the one in the past.
"""

from __future__ import annotations

import datetime as dt
import re

from nlu.entities.base import PRIORITY_DATE, PRIORITY_WEAK_DATE, Candidate

__all__ = ["find_dates", "resolve_day_month"]

FUTURE_WINDOW_DAYS = 60
"""How far ahead a yearless date may lie before we read it as last year's instead."""

_RELATIVE = {
    r"i\s?dag|today": 0,
    r"i\s?g(?:å|aa|a)r|yesterday": -1,
    r"i\s?forg(?:å|aa|a)rs": -2,
    r"i\s?morgen|tomorrow": 1,
    r"i\s?overmorgen": 2,
}
_WEEKDAYS = {
    "mandag": 0,
    "tirsdag": 1,
    "onsdag": 2,
    "torsdag": 3,
    "fredag": 4,
    "l(?:ø|oe|o)rdag": 5,
    "s(?:ø|oe|o)ndag": 6,
}
_MONTHS = {
    "januar": 1,
    "jan": 1,
    "februar": 2,
    "feb": 2,
    "marts": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "maj": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_WEEKDAY = "|".join(_WEEKDAYS)
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_LEAD = rf"(?:(?:{_WEEKDAY})\s*(?:d\.|den)?\s*|(?:d\.|den)\s*)"

_ISO = re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
_NUMERIC = re.compile(
    rf"(?P<lead>{_LEAD})?(?<!\d)(?<!\d[.,])(?P<d>\d{{1,2}})\s?(?P<sep>[./-])\s?(?P<m>\d{{1,2}})"
    rf"(?:(?P=sep)|[-/])?(?P<y>(?<=[./-])(?:\d{{4}}|\d{{2}}))?(?![\d,]|\.\d)",
    re.IGNORECASE,
)
_NAMED = re.compile(
    rf"(?P<lead>{_LEAD})?(?<!\d)(?P<d>\d{{1,2}})\.?\s*(?P<m>{_MONTH})\.?(?!\w)(?:\s*(?P<y>\d{{4}}))?",
    re.IGNORECASE,
)
_REL = re.compile(rf"(?<!\w)(?:{'|'.join(_RELATIVE)})(?!\w)", re.IGNORECASE)
_WEEKDAY_RE = re.compile(
    rf"(?<!\w)(?P<pre>i\s+|sidste\s+|p(?:å|aa|a)\s+|n(?:æ|ae|a)ste\s+|forrige\s+)?"
    rf"(?P<day>{_WEEKDAY})(?P<s>s)?(?!\w)",
    re.IGNORECASE,
)
_CLOCK_BEFORE = re.compile(r"(?:kl\.?|klokken)\s*$", re.IGNORECASE)


def resolve_day_month(day: int, month: int, today: dt.date) -> dt.date | None:
    """The nearest valid date with this day and month, at most FUTURE_WINDOW_DAYS ahead."""
    options = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            options.append(dt.date(year, month, day))
        except ValueError:
            continue
    allowed = [d for d in options if (d - today).days <= FUTURE_WINDOW_DAYS]
    return min(allowed, key=lambda d: abs((d - today).days), default=None)


def _date(day: str, month: int, year: str | None, today: dt.date) -> dt.date | None:
    if year is None:
        return resolve_day_month(int(day), month, today)
    full = int(year) + (2000 if len(year) == 2 else 0)
    try:
        return dt.date(full, month, int(day))
    except ValueError:
        return None


def _weekday(match: re.Match[str], today: dt.date) -> dt.date:
    name = match.group("day").lower()
    target = next(n for pattern, n in _WEEKDAYS.items() if re.fullmatch(pattern, name))
    pre = (match.group("pre") or "").strip().lower()
    back = (today.weekday() - target) % 7
    if pre in ("på", "paa", "pa", "næste", "naeste", "naste"):
        return today + dt.timedelta(days=(target - today.weekday()) % 7 or 7)
    if match.group("s") or pre in ("sidste", "forrige"):
        back = back or 7  # "i mandags" said on a Monday means a week ago
    return today - dt.timedelta(days=back)


def _found(match: re.Match[str], value: dt.date | None, priority: int) -> Candidate | None:
    if value is None:
        return None
    return Candidate("date", value.isoformat(), match.start(), match.end(), priority)


def find_dates(text: str, today: dt.date) -> list[Candidate]:
    """Every date expression in `text`, resolved against `today`."""
    found: list[Candidate | None] = []
    for match in _ISO.finditer(text):
        found.append(
            _found(match, _date(match["d"], int(match["m"]), match["y"], today), PRIORITY_DATE)
        )
    for match in _NUMERIC.finditer(text):
        if _CLOCK_BEFORE.search(text, 0, match.start("d")) or not 1 <= int(match["m"]) <= 12:
            continue
        weak = match["sep"] != "/" and not match["lead"] and not match["y"]
        value = _date(match["d"], int(match["m"]), match["y"], today)
        found.append(_found(match, value, PRIORITY_WEAK_DATE if weak else PRIORITY_DATE))
    for match in _NAMED.finditer(text):
        month = _MONTHS[match["m"].lower()]
        found.append(_found(match, _date(match["d"], month, match["y"], today), PRIORITY_DATE))
    for match in _REL.finditer(text):
        offset = next(v for p, v in _RELATIVE.items() if re.fullmatch(p, match.group(), re.I))
        found.append(_found(match, today + dt.timedelta(days=offset), PRIORITY_DATE))
    for match in _WEEKDAY_RE.finditer(text):
        found.append(_found(match, _weekday(match, today), PRIORITY_WEAK_DATE))
    return [c for c in found if c]
