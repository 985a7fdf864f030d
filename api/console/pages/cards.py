"""Kort: find a card, see one in full, and the cards whose control is due.

    GET  /console/cards                  the search box
    POST /console/cards/search           q: Frikort-ID, name or CPR (POST, so a CPR number
                                         never lands in a URL, a server log or the history)
    GET  /console/cards/controls-due     active cards to control this calendar year (§ 3)
    GET  /console/cards/{number}         holder, balance per year, reports, employments,
                                         contacts, status history, and the action forms

Caseworkers and administrators only (403 for an employer consultant); a card outside the
user's municipality is the same 404 as a missing one. The actions are in card_actions.py.
After an action the page is reached with ?besked=<key> (casework_helpers: a fixed sentence
from console.yml, nothing personal, nothing reflected).
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, require_roles
from api.console.pages import casework_helpers
from api.console.rendering import render
from api.deps import LedgerDep
from api.problems import status_for
from casework.records import CardDetail
from db.errors import DomainError
from db.reference_data import municipality_names
from staff import StaffPrincipal
from staff.access import CASE_ROLES
from staff.redaction import contains_cpr, redact_cpr

router = APIRouter(prefix="/console/cards", include_in_schema=False)
CaseStaff = Annotated[StaffPrincipal, Depends(require_roles(*CASE_ROLES))]
SECTION = "card_pages"
"""The words of the card and employer pages in console.yml."""


def words() -> dict[str, Any]:
    return casework_helpers.words(SECTION)


def flash_message(request: Request) -> str | None:
    return casework_helpers.flash_message(request, SECTION)


def redirect_with_flash(path: str, key: str) -> RedirectResponse:
    """To the top of the page (#main), where the message is: the card forms post to their own
    #anchor (so a refusal shows at the form), and a redirect would otherwise keep it."""
    response = casework_helpers.redirect_with_flash(path, SECTION, key)
    response.headers["location"] = response.headers["location"] + "#main"
    return response


def card_url(number: str) -> str:
    return f"/console/cards/{number}"


def error_status(error: DomainError) -> int:
    """A refused form is 4xx, but never 404: that answer is kept for the card itself."""
    status = status_for(error)
    return 422 if status == 404 else status


@cache
def municipality_choices() -> tuple[tuple[str, str], ...]:
    """(code, name) of the 98 municipalities, by name, for the transfer form."""
    return tuple(sorted(municipality_names().items(), key=lambda item: item[1]))


def safe_values(values: dict[str, str] | None) -> dict[str, str]:
    """Form values to show again after a refusal, with any CPR number taken out."""
    return {key: redact_cpr(value) for key, value in (values or {}).items()}


def card_page(
    request: Request, principal: StaffPrincipal, ledger: Backend, number: str, *,
    status_code: int = 200, error: str | None = None, open_form: str | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    """One card in full; after a refused action, with the error at the form it came from
    (`open_form`) and what was typed (`values`), so nothing has to be typed again."""
    card = ledger.casework.card(principal, number)
    today = ledger.run_read(lambda uow: uow.today)
    return render(
        request, "console/card.html", principal, status_code=status_code, card=card,
        words=words(), flash=None if error else flash_message(request), error=error,
        open_form=shown_form(card, open_form), values=safe_values(values), today=today,
        municipalities=[m for m in municipality_choices() if m[0] != card.municipality_code],
        employers=sorted({(e.employer_cvr, e.employer_name) for e in card.employments}),
        form_key=uuid.uuid4().hex)


def shown_form(card: CardDetail, form: str | None) -> str | None:
    """The form a refusal is shown at, if card.html shows that form for this card; otherwise
    None, and the message goes at the top (a stale page may post to a form now hidden)."""
    hidden = ((form == "control" and card.status != "active")
              or (form == "reactivate" and card.status == "active")
              or (form is not None and form.startswith("reverse-") and not any(
                  form == f"reverse-{r.report_id}" and r.status == "posted"
                  for r in card.reports)))
    return None if hidden else form


def _search_page(request: Request, principal: StaffPrincipal, *, status_code: int = 200,
                 **context: Any) -> HTMLResponse:
    return render(request, "console/cards.html", principal, status_code=status_code,
                  words=words(), **context)


@router.get("", response_class=HTMLResponse)
def cards_page(request: Request, principal: CaseStaff) -> Response:
    return _search_page(request, principal, results=None, query="",
                        flash=flash_message(request))


@router.post("/search", response_class=HTMLResponse)
def search(
    request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
    q: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Answers with the results itself (no redirect): the query must not reach a URL."""
    wanted = " ".join(q.split())
    if not wanted:
        return _search_page(request, principal, status_code=422, results=None, query="",
                            error=words()["form_errors"]["search_empty"])
    shown = redact_cpr(wanted)
    try:
        results = ledger.casework.search_cards(principal, wanted)
    except DomainError as refused:
        return _search_page(request, principal, status_code=error_status(refused),
                            results=None, query=shown, error=refused.message)
    exact = contains_cpr(wanted) or (len(results) == 1 and results[0].number == wanted)
    if exact and len(results) == 1:
        return RedirectResponse(card_url(results[0].number), status_code=303)
    return _search_page(request, principal, results=results, query=shown)


@router.get("/controls-due", response_class=HTMLResponse)
def controls_due(request: Request, principal: CaseStaff, ledger: LedgerDep) -> Response:
    cards = ledger.casework.controls_due(principal)
    return render(request, "console/controls_due.html", principal, cards=cards,
                  words=words(), flash=flash_message(request))


@router.get("/{number}", response_class=HTMLResponse)
def card(request: Request, principal: CaseStaff, ledger: LedgerDep, number: str) -> Response:
    return card_page(request, principal, ledger, number)
