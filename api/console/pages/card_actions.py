"""What a caseworker may do to a card, each through `ledger.casework` with the caseworker as
actor in the audit log:

    GET  /console/cards/{number}/deactivate              the confirmation step
    POST /console/cards/{number}/deactivate              reason, bekraeftet=ja
    POST /console/cards/{number}/reactivate              reason
    POST /console/cards/{number}/control                 note (optional), tilbage=kontrol
    POST /console/cards/{number}/transfer                municipality_code, reason
    POST /console/cards/{number}/contacts                channel (phone|telegram), address
    POST /console/cards/{number}/contacts/{id}/unlink
    POST /console/cards/{number}/link-code               answers with the new code, once
    POST /console/cards/{number}/reports                 a report given by phone: cvr, amount,
                                                         hours, paid_on, note, key
    POST /console/reports/{report_id}/reverse            reason, card

A refusal (the ledger's, or unclear input in card_forms) shows the card page again with the
message at the form and what was typed, and changes nothing. A card or report outside the
user's municipality is the plain 404, like a missing one. Success: 303 to the card page with a
flash message (POST-redirect-GET), except the link code, which must be shown exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked
from api.console.pages import card_forms
from api.console.pages.cards import (
    CaseStaff,
    card_page,
    card_url,
    error_status,
    redirect_with_flash,
    safe_values,
    words,
)
from api.console.rendering import render
from api.deps import LedgerDep
from api.schemas import RowId
from casework.errors import ContactNotFound
from db.errors import DomainError
from ledger.errors import CardNotFound, ReportNotFound
from staff import StaffPrincipal

router = APIRouter(prefix="/console", include_in_schema=False)
Text = Annotated[str, Form(max_length=4000)]
SCOPE_ERRORS = (CardNotFound, ReportNotFound, ContactNotFound)
"""Not a form error: the record is missing or not the user's, and the answer is 404."""
NO_STORE = {"Cache-Control": "no-store"}


def _act(
    request: Request, principal: StaffPrincipal, ledger: Backend, number: str,
    action: Callable[[], str], *, form: str, values: dict[str, str] | None = None,
) -> Response:
    """Runs `action` (which returns the flash key); a refusal re-shows the card page."""
    try:
        flash = action()
    except card_forms.FormError as unclear:
        return card_page(request, principal, ledger, number, status_code=422,
                         error=unclear.message, open_form=form, values=values)
    except DomainError as refused:
        if isinstance(refused, SCOPE_ERRORS):
            raise
        return card_page(request, principal, ledger, number, status_code=error_status(refused),
                         error=refused.message, open_form=form, values=values)
    return redirect_with_flash(card_url(number), flash)


def _confirm_page(request: Request, principal: StaffPrincipal, ledger: Backend, number: str, *,
                  status_code: int = 200, error: str | None = None, reason: str = "") -> Response:
    card = ledger.casework.card(principal, number)
    return render(request, "console/card_deactivate.html", principal, status_code=status_code,
                  card=card, error=error, values=safe_values({"reason": reason}))


@router.get("/cards/{number}/deactivate", response_class=HTMLResponse)
def confirm_deactivation(request: Request, principal: CaseStaff, ledger: LedgerDep,
                         number: str) -> Response:
    return _confirm_page(request, principal, ledger, number)


@router.post("/cards/{number}/deactivate", response_class=HTMLResponse)
def deactivate(request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
               number: str, reason: Text = "", bekraeftet: Text = "") -> Response:
    """Only from the confirmation page (bekraeftet=ja); otherwise that page is shown."""
    if bekraeftet != "ja":
        return _confirm_page(request, principal, ledger, number, status_code=422,
                             error=words()["form_errors"]["confirm_deactivation"], reason=reason)
    try:
        ledger.casework.deactivate(principal, number, reason)
    except DomainError as refused:
        if isinstance(refused, SCOPE_ERRORS):
            raise
        return _confirm_page(request, principal, ledger, number,
                             status_code=error_status(refused), error=refused.message,
                             reason=reason)
    return redirect_with_flash(card_url(number), "deactivated")


@router.post("/cards/{number}/reactivate", response_class=HTMLResponse)
def reactivate(request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
               number: str, reason: Text = "") -> Response:
    def run() -> str:
        ledger.casework.reactivate(principal, number, reason)
        return "reactivated"
    return _act(request, principal, ledger, number, run, form="reactivate",
                values={"reason": reason})


@router.post("/cards/{number}/control", response_class=HTMLResponse)
def record_control(request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
                   number: str, note: Text = "", tilbage: Text = "") -> Response:
    """From the list of controls due (tilbage=kontrol) the user goes back to that list."""
    def run() -> str:
        ledger.casework.record_control(principal, number, note)
        return "controlled"
    response = _act(request, principal, ledger, number, run, form="control",
                    values={"note": note})
    if response.status_code == 303 and tilbage == "kontrol":
        return redirect_with_flash("/console/cards/controls-due", "controlled")
    return response


@router.post("/cards/{number}/transfer", response_class=HTMLResponse)
def transfer(request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
             number: str, municipality_code: Text = "", reason: Text = "") -> Response:
    """Afterwards a caseworker of the old municipality no longer sees the card: back to search."""
    try:
        ledger.casework.transfer(principal, number, municipality_code, reason)
    except DomainError as refused:
        if isinstance(refused, SCOPE_ERRORS):
            raise
        return card_page(request, principal, ledger, number, status_code=error_status(refused),
                         error=refused.message, open_form="transfer",
                         values={"municipality_code": municipality_code, "reason": reason})
    if principal.is_admin:
        return redirect_with_flash(card_url(number), "transferred")
    return redirect_with_flash("/console/cards", "transferred")


@router.post("/cards/{number}/contacts", response_class=HTMLResponse)
def link_contact(request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
                 number: str, channel: Text = "", address: Text = "") -> Response:
    def run() -> str:
        ledger.casework.link_contact(principal, number, channel, address)
        return "contact_linked"
    return _act(request, principal, ledger, number, run, form="contact",
                values={"channel": channel, "address": address})


@router.post("/cards/{number}/contacts/{contact_id}/unlink", response_class=HTMLResponse)
def unlink_contact(request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
                   number: str, contact_id: RowId) -> Response:
    def run() -> str:
        ledger.casework.unlink_contact_id(principal, number, contact_id)
        return "contact_unlinked"
    return _act(request, principal, ledger, number, run, form="contact")


@router.post("/cards/{number}/link-code", response_class=HTMLResponse)
def reissue_link_code(request: Request, principal: CaseStaff, _: CsrfChecked,
                      ledger: LedgerDep, number: str) -> Response:
    """The code is stored as a hash only: this answer is the one time it is shown, and the
    browser is told not to keep it."""
    code = ledger.casework.reissue_link_code(principal, number)
    card = ledger.casework.card(principal, number)
    return render(request, "console/card_link_code.html", principal, card=card, code=code,
                  headers=NO_STORE)


@router.post("/cards/{number}/reports", response_class=HTMLResponse)
def post_on_behalf(
    request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep, number: str,
    cvr: Text = "", amount: Text = "", hours: Text = "", paid_on: Text = "", note: Text = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """A report an employer gave by phone, posted at once. `key` is the form's one-time id:
    a double click, or the same form sent twice, posts once (a refused form gets a new one)."""
    def run() -> str:
        result = ledger.casework.post_report_on_behalf(
            principal, number, card_forms.cvr(cvr), card_forms.kroner_to_ore(amount),
            card_forms.hours(hours), card_forms.payment_date(paid_on), note,
            idempotency_key=f"console:{key}" if key.isalnum() else None)
        return "posted_over_cap" if result.over_cap_ore else "posted"
    return _act(request, principal, ledger, number, run, form="report", values={
        "cvr": cvr, "amount": amount, "hours": hours, "paid_on": paid_on, "note": note})


@router.post("/reports/{report_id}/reverse", response_class=HTMLResponse)
def reverse_report(
    request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep, report_id: RowId,
    reason: Text = "", card: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """`card` (the page the form was on) is where a refusal is shown; the ledger checks the
    report's own card against the user's municipality."""
    try:
        result = ledger.casework.reverse_report(principal, report_id, reason)
    except DomainError as refused:
        if isinstance(refused, SCOPE_ERRORS) or not card:
            raise
        return card_page(request, principal, ledger, card, status_code=error_status(refused),
                         error=refused.message, open_form=f"reverse-{report_id}",
                         values={"reason": reason})
    return redirect_with_flash(card_url(result.card_number), "reversed")
