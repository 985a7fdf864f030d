"""Loftbeløb: the yearly cap table, for administrators.

    GET  /console/caps     every year's cap in force, its source, who set it, demo or not
    POST /console/caps     year, amount ("42.766" or "42766,00"), source_url, source_note

The cap decides how much a card holder may earn tax-free, so a new figure must name where
it comes from: the source URL is required and must be a web address. The change runs the
ledger's own SetCap command with the administrator as actor (the audit log names them);
the ledger refuses a cap below what is already counted on a card. A refusal shows the form
again with the reason and what was typed, and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, require_roles
from api.console.pages import card_forms
from api.console.pages.cards import error_status
from api.console.pages.overview import FIRST_YEAR, ledger_today, words
from api.console.rendering import render
from api.deps import LedgerDep
from db.errors import DomainError
from ledger import SetCap
from ledger.results import CapResult
from staff import StaffPrincipal

router = APIRouter(prefix="/console/caps", include_in_schema=False)
Admin = Annotated[StaffPrincipal, Depends(require_roles("admin"))]
LAST_YEAR = 2100
"""The ledger's own bound on a cap's year (SetCap)."""
SOURCE_MAX = 2000
"""The ledger's bound on the whole source text (SetCap.source)."""
_URL = re.compile(r"https?://\S+")
FLASH_PARAM = "besked"


class CapFormError(ValueError):
    """Input the page refuses before the ledger is asked; the message is Danish."""


@dataclass(frozen=True)
class CapRow:
    """A cap as the table shows it: the source split into its words and its link."""

    cap: CapResult
    source_text: str
    source_url: str | None
    set_by: str


def split_source(source: str) -> tuple[str, str | None]:
    """("Lov nr. 616 ...", "https://...") from a stored source ("words; URL", the URL last);
    the words may be empty, and a source without a web address has no link."""
    found = next(reversed(list(_URL.finditer(source))), None)
    if found is None:
        return source, None
    text = (source[: found.start()] + source[found.end():]).strip().strip(";").strip()
    return text, found.group().rstrip(".,;)")


def join_source(url: str, note: str) -> str:
    """The stored form, as in db/data/caps.yml: "words; URL" (or the URL alone)."""
    return f"{note}; {url}" if note else url


def _who(actor: str | None, names: dict[str, str]) -> str:
    """A console actor as the person's name, the reference data and the demo in words;
    anything else (an operator's CLI or API name) as it was recorded."""
    if actor is None:
        return ""
    username = actor.removeprefix("console:")
    if actor.startswith("console:") and username in names:
        return f"{names[username]} ({username})"
    return str(words()["cap_actors"].get(actor, actor))


def cap_rows(ledger: Backend) -> list[CapRow]:
    """Newest year first: that is the one an administrator comes to check or set."""
    names = {a.username: a.display_name for a in ledger.staff.list_users()}
    rows = []
    for cap in sorted(ledger.caps(), key=lambda c: c.year, reverse=True):
        text, url = split_source(cap.source)
        rows.append(CapRow(cap, text, url, _who(cap.set_by, names)))
    return rows


def _year(raw: str) -> int:
    errors = words()["form_errors"]
    text = raw.strip()
    if text.isascii() and text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR:
        return int(text)
    raise CapFormError(errors["year"].format(first=FIRST_YEAR, last=LAST_YEAR))


def _source(url: str, note: str) -> str:
    errors = words()["form_errors"]
    url, note = url.strip(), " ".join(note.split())
    if not url:
        raise CapFormError(errors["cap_source_missing"])
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or \
            any(c.isspace() or ord(c) < 0x20 for c in url):
        raise CapFormError(errors["cap_source_not_web"])
    joined = join_source(url, note)
    if len(joined) > SOURCE_MAX:
        raise CapFormError(errors["cap_source_too_long"].format(max=SOURCE_MAX))
    return joined


def _page(request: Request, principal: StaffPrincipal, ledger: Backend, *,
          status_code: int = 200, error: str | None = None,
          values: dict[str, str] | None = None) -> HTMLResponse:
    flash = None if error else _flash(request)
    today = ledger_today(ledger)
    return render(request, "console/caps.html", principal, status_code=status_code,
                  rows=cap_rows(ledger), error=error, flash=flash,
                  values=values or {"year": str(today.year + 1)})


def _flash(request: Request) -> str | None:
    """What the last change did, from ?besked=cap_set&year=..&released=.. (numbers only,
    so nothing typed by anyone is reflected into the page)."""
    if request.query_params.get(FLASH_PARAM) != "cap_set":
        return None
    year, released = request.query_params.get("year", ""), request.query_params.get(
        "released", "0")
    if not (year.isascii() and year.isdigit() and released.isascii() and released.isdigit()):
        return None
    flash: dict[str, Any] = words()["cap_flash"]
    message = flash["cap_set"].format(year=int(year))
    if int(released):
        message += " " + flash["cap_released"].format(count=int(released))
    return str(message)


@router.get("", response_class=HTMLResponse)
def caps_page(request: Request, principal: Admin, ledger: LedgerDep) -> Response:
    return _page(request, principal, ledger)


@router.post("", response_class=HTMLResponse)
def set_cap(
    request: Request, principal: Admin, _: CsrfChecked, ledger: LedgerDep,
    year: Annotated[str, Form(max_length=10)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    source_url: Annotated[str, Form(max_length=SOURCE_MAX)] = "",
    source_note: Annotated[str, Form(max_length=SOURCE_MAX)] = "",
) -> Response:
    values = {"year": year, "amount": amount, "source_url": source_url,
              "source_note": source_note}
    try:
        command = SetCap(year=_year(year), amount_ore=card_forms.kroner_to_ore(amount),
                         source=_source(source_url, source_note), is_demo=False)
        result = ledger.set_cap(command, actor=principal.actor)
    except CapFormError as unclear:
        return _page(request, principal, ledger, status_code=422, error=str(unclear),
                     values=values)
    except card_forms.FormError as unclear:
        return _page(request, principal, ledger, status_code=422, error=unclear.message,
                     values=values)
    except DomainError as refused:
        return _page(request, principal, ledger, status_code=error_status(refused),
                     error=refused.message, values=values)
    return RedirectResponse(f"/console/caps?{FLASH_PARAM}=cap_set&year={result.year}"
                            f"&released={result.reports_released}", status_code=303)
