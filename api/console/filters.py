"""Jinja filters that show the ledger's values the Danish way: `kr`, `dato`, `tid`,
`varighed`, `masked_cpr`, `rolle`, `kommune`, `timer`. They reuse the ledger's and the bot's
formatting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from api.console.texts import texts
from danish.money import format_danish
from danish.wording import danish_date
from db.reference_data import municipality_names
from db.vault import mask_cpr

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
EMPTY = "–"


def kr(ore: int | None) -> str:
    """Øre as "1.234,50 kr."."""
    return EMPTY if ore is None else format_danish(ore)


def dato(value: dt.date | dt.datetime | None) -> str:
    """"23.11.2026"; a timestamp is shown as its Copenhagen date."""
    if value is None:
        return EMPTY
    if isinstance(value, dt.datetime):
        value = value.astimezone(COPENHAGEN).date()
    return danish_date(value)


def tid(value: dt.datetime | None) -> str:
    """"23.11.2026 kl. 14.05" in Copenhagen time."""
    if value is None:
        return EMPTY
    local = value.astimezone(COPENHAGEN)
    return f"{danish_date(local.date())} {local.strftime(texts()['formats']['time'])}"


def varighed(delta: dt.timedelta | int | None) -> str:
    """A waiting time in the two largest units: "2 dage 3 t.", "3 t. 5 min."; an int is
    seconds (the ledger's `waiting_seconds`, `processing_seconds`)."""
    if delta is None:
        return EMPTY
    if isinstance(delta, int):
        delta = dt.timedelta(seconds=delta)
    words = texts()["durations"]
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return str(words["less_than_a_minute"])
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} {words['day'] if days == 1 else words['days']}")
    if hours:
        parts.append(f"{hours} {words['hours']}")
    if minutes and not days:
        parts.append(f"{minutes} {words['minutes']}")
    return " ".join(parts[:2])


def masked_cpr(cpr: str | None) -> str:
    """Only the birth date: "120385-xxxx" (an already masked value stays as it is)."""
    return EMPTY if not cpr else mask_cpr(cpr)


def rolle(role: str | None) -> str:
    return str(texts()["roles"].get(role or "", role or EMPTY))


def kommune(code: str | None) -> str:
    """"Aarhus (751)"."""
    if not code:
        return EMPTY
    name = municipality_names().get(code)
    return f"{name} ({code})" if name else code


def timer(hours: Decimal | None) -> str:
    """Hours the Danish way, without trailing zeros: "2,5", "3"."""
    return EMPTY if hours is None else f"{hours.normalize():f}".replace(".", ",")


FILTERS = {"kr": kr, "dato": dato, "tid": tid, "varighed": varighed, "masked_cpr": masked_cpr,
           "rolle": rolle, "kommune": kommune, "timer": timer}
