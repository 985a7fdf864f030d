"""Telefonliste and signing up: the helper role's pages (værested and herberg staff).

    GET  /console/phone-list                   the helper's own list: who wants small jobs,
                                               with the consent recorded and its date
    POST /console/phone-list                   card (Frikort-ID), fornavn, samtykke=ja, note
    POST /console/phone-list/{entry_id}/remove take someone off the list
    POST /console/tasks/{task_id}/sign-up      card (from the list), samtykke=ja, note: takes
                                               the task on the holder's behalf (via "helper")

For helpers and administrators. Everyone sees only their own list: another user's entry is
the same 404 as a missing one. Consent is required both to put someone on the list and to
sign them up, and is recorded with the helper's own words about how it was given.

Adding someone needs their Frikort-ID and their first name, and a wrong pair gets one
answer whatever was wrong (no such card, another municipality, not active, another name):
so a helper can put the person in front of them on the list, but cannot use the form to look
up who holds a card number. The page checks the pair before the ledger is asked, so a wrong
guess changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, require_roles
from api.console.pages import casework_helpers
from api.console.pages.card_forms import FormError
from api.console.pages.cards import error_status
from api.console.pages.task_forms import SECTION, TaskFormError, consent_note
from api.console.pages.tasks import (
    SIGN_UP_ROLES,
    redirect_with_flash,
    task_page,
    task_url,
    visible_task,
    words,
)
from api.console.rendering import render
from api.deps import LedgerDep
from api.schemas import RowId
from danish.wording import first_name as holder_first_name
from db.errors import DomainError, NotFound
from staff import StaffPrincipal
from staff.redaction import redact_cpr

router = APIRouter(prefix="/console", include_in_schema=False)
Helper = Annotated[StaffPrincipal, Depends(require_roles(*SIGN_UP_ROLES))]
Field = Annotated[str, Form(max_length=200)]
NoteField = Annotated[str, Form(max_length=500)]
PHONE_LIST_URL = "/console/phone-list"


def phone_list_page(request: Request, principal: StaffPrincipal, ledger: Backend, *,
                    status_code: int = 200, error: str | None = None,
                    values: dict[str, str] | None = None) -> HTMLResponse:
    return render(
        request, "console/phone_list.html", principal, status_code=status_code,
        entries=ledger.tasks.phone_list(principal), words=words(), error=error,
        values={key: redact_cpr(value) for key, value in (values or {}).items()},
        flash=None if error else casework_helpers.flash_message(request, SECTION))


def first_name_matches(ledger: Backend, principal: StaffPrincipal, card_number: str,
                       first_name: str) -> bool:
    """Whether `card_number` is an active card in the user's municipality whose holder's
    first name is `first_name` (case and extra spaces aside)."""
    try:
        card = ledger.card(card_number)
    except NotFound:
        return False
    return (card.status == "active" and principal.sees(card.municipality_code)
            and holder_first_name(card.holder_name).casefold() == first_name.casefold())


@router.get("/phone-list", response_class=HTMLResponse)
def phone_list(request: Request, principal: Helper, ledger: LedgerDep) -> Response:
    return phone_list_page(request, principal, ledger)


@router.post("/phone-list", response_class=HTMLResponse)
def add(request: Request, principal: Helper, _: CsrfChecked, ledger: LedgerDep,
        card: Field = "", fornavn: Field = "", samtykke: Field = "",
        note: NoteField = "") -> Response:
    number, first_name = "".join(card.split()), " ".join(fornavn.split())
    values = {"card": number, "fornavn": first_name, "note": note}
    try:
        if not first_name:
            raise TaskFormError("first_name_missing")
        recorded = consent_note("phone_list", samtykke, note)
        if not first_name_matches(ledger, principal, number, first_name):
            raise TaskFormError("card_unknown")
        ledger.tasks.add_to_phone_list(principal, number, recorded)
    except FormError as refused:
        return phone_list_page(request, principal, ledger, status_code=422,
                               error=refused.message, values=values)
    except DomainError as refused:
        return phone_list_page(request, principal, ledger, status_code=error_status(refused),
                               error=refused.message, values=values)
    return redirect_with_flash(PHONE_LIST_URL, "added")


@router.post("/phone-list/{entry_id}/remove", response_class=HTMLResponse)
def remove(request: Request, principal: Helper, _: CsrfChecked, ledger: LedgerDep,
           entry_id: RowId) -> Response:
    """Another user's entry is the ledger's NotFound: the plain 404 page."""
    ledger.tasks.remove_from_phone_list(principal, entry_id)
    return redirect_with_flash(PHONE_LIST_URL, "removed")


@router.post("/tasks/{task_id}/sign-up", response_class=HTMLResponse)
def sign_up(request: Request, principal: Helper, _: CsrfChecked, ledger: LedgerDep,
            task_id: RowId, card: Field = "", samtykke: Field = "",
            note: NoteField = "") -> Response:
    """Takes the task for someone on the user's own phone list, with their consent."""
    visible_task(ledger, principal, task_id)
    number = "".join(card.split())
    values = {"card": number, "note": note}
    try:
        if not number:
            raise TaskFormError("card_missing")
        recorded = consent_note("sign_up", samtykke, note)
        if number not in {e.card_number for e in ledger.tasks.phone_list(principal)}:
            raise TaskFormError("not_on_list")
        ledger.tasks.take_task(task_id, number, via="helper", actor=principal.actor,
                               helper=principal.username, consent_note=recorded)
    except FormError as refused:
        return task_page(request, principal, ledger, task_id, status_code=422,
                         error=refused.message, error_form="sign_up", values=values)
    except DomainError as refused:
        return task_page(request, principal, ledger, task_id, error=refused.message,
                         status_code=error_status(refused), error_form="sign_up",
                         values=values)
    return redirect_with_flash(task_url(task_id), "signed_up")
