"""Ansøgninger: card applications taken by the bot, waiting for a caseworker's decision.

    GET  /console/applications?status=received|approved|rejected|all
                                                 the queue; open ones oldest first
    GET  /console/applications/{id}              answers, consent, job wishes, contact
                                                 preference, helper; what approval will do
    POST /console/applications/{id}/approve      valid_from (optional), cpr (only when the
                                                 applicant gave none), municipality_code (only
                                                 for one filed under none): answers with the
                                                 new Frikort-ID and the link code, shown once
    POST /console/applications/{id}/reject       reason, step=preview|send: first shows the
                                                 exact message the applicant will get, then
                                                 sends it (PRG back to the application)

Caseworkers and administrators only (403 for an employer consultant); an application outside
the user's municipality is the same 404 as a missing one. The approval answer is a page of
its own, not a redirect: the link code exists in clear only in the ledger's answer, and
putting it in a URL or the session cookie would keep it where it must not be. A reload of
that page (a second POST) finds the application decided and says so; nothing is issued twice.
CPR numbers are typed only into a POST form, never shown back in full.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, require_roles
from api.console.pages.card_forms import FormError, payment_date
from api.console.pages.cards import municipality_choices
from api.console.pages.casework_helpers import (
    flash_message,
    redirect_with_flash,
    refusal_status,
    words,
)
from api.console.rendering import render
from api.deps import LedgerDep
from api.schemas import RowId
from casework import texts as applicant_texts
from casework.errors import ApplicationDecided, ReasonRequired
from casework.records import ApplicationDetail
from db.errors import DomainError
from staff import StaffPrincipal
from staff.access import CASE_ROLES
from staff.redaction import REASON_MAX, clean_text, redact_cpr

router = APIRouter(prefix="/console/applications", include_in_schema=False)
CaseStaff = Annotated[StaffPrincipal, Depends(require_roles(*CASE_ROLES))]
SECTION = "application_pages"
StatusFilter = Literal["received", "approved", "rejected", "all"]
Field = Annotated[str, Form(max_length=REASON_MAX * 4)]


class PageFormError(Exception):
    """Form input refused before the ledger is asked; `message` is in Danish."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.message = str(words(SECTION)["form_errors"][key])


def _channels() -> dict[str, str]:
    """Channel names, shared with the inbox's words."""
    return dict(words("inbox_pages")["channels"])


def application_url(application_id: RowId) -> str:
    return f"/console/applications/{application_id}"


def rejection_text(application: ApplicationDetail, reason: str) -> str:
    """The message the applicant gets, as the ledger will word it."""
    return applicant_texts.rejection(application.name, application.id,
                                     application.municipality_code, reason)


def _detail_page(
    request: Request, principal: StaffPrincipal, ledger: Backend, application_id: RowId, *,
    status_code: int = 200, error: str | None = None, form: str | None = None,
    values: dict[str, str] | None = None, rejection_reason: str | None = None,
) -> HTMLResponse:
    """One application; after a refusal with the error at `form` and what was typed kept
    (CPR numbers redacted); with `rejection_reason`, the exact rejection message waiting for
    the caseworker's confirmation (refused if the application is already decided)."""
    application = ledger.casework.application(principal, application_id)
    if rejection_reason is not None and application.status != "received":
        raise ApplicationDecided(id=application_id)
    preview = None if rejection_reason is None else rejection_text(application,
                                                                   rejection_reason)
    today = ledger.run_read(lambda uow: uow.today)
    kept = {key: redact_cpr(value) for key, value in (values or {}).items() if key != "cpr"}
    return render(
        request, "console/application.html", principal, status_code=status_code,
        application=application, words=words(SECTION), channels=_channels(), today=today,
        flash=None if error or preview else flash_message(request, SECTION),
        error=error, error_form=form, values=kept, preview=preview,
        placeholder_preview=rejection_text(application, words(SECTION)["reason_placeholder"]),
        municipalities=municipality_choices() if application.municipality_code is None
        else ())


@router.get("", response_class=HTMLResponse)
def applications_page(request: Request, principal: CaseStaff, ledger: LedgerDep,
                      status: StatusFilter = "received") -> Response:
    items = ledger.casework.applications(principal, None if status == "all" else status)
    return render(request, "console/applications.html", principal, items=items,
                  status=status, words=words(SECTION), flash=flash_message(request, SECTION))


@router.get("/{application_id}", response_class=HTMLResponse)
def application_page(request: Request, principal: CaseStaff, ledger: LedgerDep,
                     application_id: RowId) -> Response:
    ledger.casework.open_application(principal, application_id)  # the applicant hears of it
    return _detail_page(request, principal, ledger, application_id)


def _valid_from(text: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return payment_date(text)
    except FormError as exc:
        raise PageFormError("date_unclear") from exc


def _municipality(code: str) -> str | None:
    if not code:
        return None
    if code not in dict(municipality_choices()):
        raise PageFormError("municipality")
    return code


@router.post("/{application_id}/approve", response_class=HTMLResponse)
def approve(
    request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
    application_id: RowId, valid_from: Field = "", cpr: Field = "",
    municipality_code: Field = "",
) -> Response:
    """Issues the card; the answer shows the Frikort-ID and, once, the link code."""
    values = {"valid_from": valid_from, "municipality_code": municipality_code}
    try:
        decision = ledger.casework.approve(
            principal, application_id, _valid_from(valid_from), cpr=cpr.strip() or None,
            municipality_code=_municipality(municipality_code))
    except PageFormError as refused:
        return _detail_page(request, principal, ledger, application_id, status_code=422,
                            error=refused.message, form="approve", values=values)
    except DomainError as refused:
        return _detail_page(request, principal, ledger, application_id,
                            status_code=refusal_status(refused), error=refused.message,
                            form="approve", values=values)
    application = ledger.casework.application(principal, application_id)
    assert decision.card_number is not None and decision.valid_from is not None
    sent = applicant_texts.grant(
        application.name, decision.card_number, applicant_texts.text("code_hidden"),
        decision.valid_from, linked=decision.contact_linked)
    return render(request, "console/application_approved.html", principal,
                  application=application, decision=decision, sent_text=sent,
                  words=words(SECTION), channels=_channels())


@router.post("/{application_id}/reject", response_class=HTMLResponse)
def reject(
    request: Request, principal: CaseStaff, _: CsrfChecked, ledger: LedgerDep,
    application_id: RowId, reason: Field = "",
    step: Annotated[Literal["preview", "send"], Form()] = "preview",
) -> Response:
    """step=preview: the page with the exact message; step=send: reject and tell them."""
    values = {"reason": reason}
    try:
        if step == "preview":
            return _detail_page(
                request, principal, ledger, application_id, values=values,
                rejection_reason=clean_text(reason, REASON_MAX, missing=ReasonRequired))
        decision = ledger.casework.reject(principal, application_id, reason)
    except DomainError as refused:
        return _detail_page(request, principal, ledger, application_id,
                            status_code=refusal_status(refused), error=refused.message,
                            form="reject", values=values)
    return redirect_with_flash(application_url(application_id), SECTION,
                               "rejected" if decision.message_queued else "rejected_not_sent")
