"""Beskeder: announcements to the card holders of a municipality (issue 16, item 5).

    GET  /console/messages    the form, and every announcement with its delivery counts
    POST /console/messages    step=preview: the text as it will go (GSM-7), the number of
                              recipients, SMS segments and the estimated cost; step=send:
                              scheduled, sent by the outreach sweep at the allowed hours

A caseworker writes to their own municipality, an administrator chooses one. STOP, INGEN
PÅMINDELSER, deactivated cards, quiet hours and the weekly limit apply as to every outreach
message (outreach/consent.py); the recipients count is the audience before those.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, require_roles
from api.console.pages import casework_helpers
from api.console.pages.cards import municipality_choices, safe_values
from api.console.rendering import render
from api.deps import LedgerDep
from cpr import contains_cpr
from danish.wording import gsm7_safe, segments
from db.outreach_tables import ANNOUNCEMENT_AUDIENCES
from staff import StaffPrincipal

router = APIRouter(prefix="/console/messages", include_in_schema=False)
CaseStaff = Annotated[StaffPrincipal, Depends(require_roles("caseworker", "admin"))]
SECTION = "outreach_pages"
MAX_SEGMENTS = 6
"""A long announcement costs six SMS per person; more is a letter, not a text message."""


def words() -> dict[str, Any]:
    return casework_helpers.words(SECTION)


def _price_ore(request: Request) -> int:
    return int(request.app.state.settings.SMS_SEGMENT_PRICE_ORE)


def _page(request: Request, principal: StaffPrincipal, ledger: Backend, *,
          status_code: int = 200, error: str | None = None,
          preview: dict[str, Any] | None = None, values: dict[str, str] | None = None,
          ) -> HTMLResponse:
    scope = None if principal.is_admin else principal.municipality_code
    sent = request.query_params.get("besked") == "scheduled"
    return render(request, "console/messages.html", principal, status_code=status_code,
                  words=words(), audiences=ANNOUNCEMENT_AUDIENCES,
                  municipalities=municipality_choices(), items=ledger.outreach.announcements(scope),
                  error=error, preview=preview, values=values or {"modtagere": "active"},
                  flash=words()["scheduled"] if sent else None)


@router.get("", response_class=HTMLResponse)
def messages_page(request: Request, principal: CaseStaff, ledger: LedgerDep) -> Response:
    return _page(request, principal, ledger)


@router.post("", response_class=HTMLResponse)
def write_message(
    request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
    text: Annotated[str, Form(max_length=2000)] = "",
    modtagere: Annotated[str, Form(max_length=20)] = "active",
    municipality_code: Annotated[str, Form(max_length=3)] = "",
    step: Annotated[str, Form(max_length=10)] = "preview",
) -> Response:
    errors = words()["errors"]
    values = safe_values({"text": text, "modtagere": modtagere,
                          "municipality_code": municipality_code})
    code = municipality_code.strip() if principal.is_admin else principal.municipality_code
    message = gsm7_safe(text)
    error = None
    if not message:
        error = errors["empty"]
    elif contains_cpr(message):
        error = errors["cpr"]
    elif segments(message) > MAX_SEGMENTS:
        error = errors["too_long"].format(max=MAX_SEGMENTS)
    elif modtagere not in ANNOUNCEMENT_AUDIENCES:
        error = errors["audience"]
    elif code is None or code not in dict(municipality_choices()):
        error = errors["municipality"]
    if error is not None:
        return _page(request, principal, ledger, status_code=422, error=error, values=values)
    assert code is not None
    if step != "send":
        count = ledger.outreach.recipients(code, modtagere)
        parts = segments(message)
        preview = {"text": message, "recipients": count, "segments": parts,
                   "cost_ore": count * parts * _price_ore(request), "municipality": code,
                   "audience": modtagere}
        return _page(request, principal, ledger, preview=preview, values=values)
    ledger.outreach.announce(municipality_code=code, audience=modtagere, text=message,
                             created_by=principal.actor.name)
    return RedirectResponse("/console/messages?besked=scheduled", status_code=303)
