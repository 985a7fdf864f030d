"""Overblik: the municipality's figures, with the key figure of the evaluations first.

    GET /console/overview?year=2025&municipality=751

Cards granted against cards used per year come first, as numbers and as a chart, because
that is what the evaluations measure ("only a third use their card"). Then applications and
their processing time, conversations per day, escalations and their response time, and the
messages the bot did not understand, so the training data can be improved. A caseworker or
consultant always sees their own municipality; an administrator chooses one or sees all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.bootstrap import Backend
from api.console import charts
from api.console.deps import OfficeStaff
from api.console.filters import dato
from api.console.pages import casework_helpers
from api.console.pages.cards import municipality_choices
from api.console.rendering import render
from api.deps import LedgerDep
from casework.records import Overview
from staff import StaffPrincipal

router = APIRouter(prefix="/console/overview", include_in_schema=False)
FIRST_YEAR = 2019
"""The socialt frikort began as a trial in 2019: no figures can exist before it."""
WIDE = charts.Layout(width=960, height=240)
"""Thirty columns need the panel's whole width to stay readable."""
OUTREACH_DAYS = 90
"""The outreach table covers the messages of the last 90 days (issue 16, item 7)."""
SECTION = "admin_pages"
"""The words of Overblik, Loftbeløb and Brugere in api/data/console.yml."""


@dataclass(frozen=True)
class UsageRow:
    year: int
    granted: int
    used: int
    share: int | None
    """Used as whole per cent of granted; None when no card was granted."""


def words() -> dict[str, Any]:
    """This area's words (console.yml, `admin_pages`), shared with caps.py and users.py."""
    return casework_helpers.words(SECTION)


def ledger_today(ledger: Backend) -> dt.date:
    """Today in Denmark by the ledger's clock, so pages and figures agree on the year."""
    return ledger.run_read(lambda uow: uow.today)


def usage_rows(overview: Overview) -> list[UsageRow]:
    return [UsageRow(u.year, u.granted, u.used, charts.percent(u.used, u.granted))
            for u in overview.usage]


def usage_chart(rows: list[UsageRow]) -> Markup:
    """Granted and used side by side per year, the share used written above each year."""
    w = words()["usage_chart"]
    groups = [charts.Group(str(r.year), (r.granted, r.used),
                           "" if r.share is None else w["share"].format(percent=r.share))
              for r in rows]
    description = w["description"].format(first=rows[0].year, last=rows[-1].year)
    return charts.bar_chart("usage-chart", w["title"], description,
                            [charts.Series(w["granted"], "granted"),
                             charts.Series(w["used"], "used")], groups)


def days_chart(overview: Overview) -> Markup:
    """Conversations per day; a date on every seventh column so the axis stays readable."""
    w = words()["days_chart"]
    days = overview.conversations_per_day
    groups = [charts.Group(d.day.strftime("%d.%m"), (d.count,)) for d in days]
    total = sum(d.count for d in days)
    description = w["description"].format(
        first=dato(days[0].day), last=dato(days[-1].day), total=charts.number(total))
    return charts.bar_chart("days-chart", w["title"].format(days=len(days)), description,
                            [charts.Series(w["conversations"], "conversations")], groups,
                            label_every=7, layout=WIDE)


def duration(seconds: int | None) -> dt.timedelta | None:
    """Seconds from the ledger as a timedelta, for the `varighed` filter."""
    return None if seconds is None else dt.timedelta(seconds=seconds)


def _year(raw: str | None, today: dt.date) -> int | None:
    """The chosen year, this year when none is given, None when it cannot be one."""
    if raw is None or not raw.strip():
        return today.year
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        return None
    year = int(text)
    return year if FIRST_YEAR <= year <= today.year + 1 else None


def _municipality(principal: StaffPrincipal, raw: str | None) -> tuple[str | None, bool]:
    """(the municipality to show, whether the choice was valid). Only an administrator
    chooses; for everyone else the ledger uses their own municipality."""
    if not principal.is_admin:
        return None, True
    code = (raw or "").strip()
    if not code:
        return None, True
    return (code, True) if code in dict(municipality_choices()) else (None, False)


@router.get("", response_class=HTMLResponse)
def overview_page(request: Request, principal: OfficeStaff, ledger: LedgerDep,
                  year: str | None = None, municipality: str | None = None) -> HTMLResponse:
    today = ledger_today(ledger)
    chosen_year = _year(year, today)
    code, code_ok = _municipality(principal, municipality)
    errors = words()["form_errors"]
    error = None
    if chosen_year is None:
        error = errors["year"].format(first=FIRST_YEAR, last=today.year + 1)
    elif not code_ok:
        error = errors["municipality"]
    context: dict[str, Any] = {
        "years": list(range(today.year + 1, FIRST_YEAR - 1, -1)),
        "year": chosen_year or today.year, "municipality": code or "",
        "municipalities": municipality_choices() if principal.is_admin else [],
        "error": error, "number": charts.number, "duration": duration,
        "statuses": words()["application_statuses"]}
    if error is not None:
        return render(request, "console/overview.html", principal, status_code=422, **context)
    assert chosen_year is not None
    figures = ledger.casework.overview(principal, chosen_year, code)
    rows = usage_rows(figures)
    scope = code if principal.is_admin else principal.municipality_code
    return render(request, "console/overview.html", principal, figures=figures, usage=rows,
                  usage_svg=usage_chart(rows), days_svg=days_chart(figures),
                  outreach=ledger.outreach.effects(scope, days=OUTREACH_DAYS),
                  outreach_words=casework_helpers.words("outreach_pages"),
                  outreach_days=OUTREACH_DAYS,
                  conversations_total=sum(d.count for d in figures.conversations_per_day),
                  **context)
