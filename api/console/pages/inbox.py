"""Indbakke: conversations where a citizen or an employer waits for a person.

    GET  /console/inbox                         open escalations: urgent first, then oldest
    GET  /console/inbox/rows                    the list's rows as JSON {"html", "count"} (JS
                                                polls it every ~10 s)
    GET  /console/inbox/{id}                    transcript across channels, notes, forms
    GET  /console/inbox/{id}/messages?after=N   JSON: messages after N, reply delivery states
    POST /console/inbox/{id}/take               take ownership (the bot goes quiet)
    POST /console/inbox/{id}/reply              text: sent on the conversation's own channel
    POST /console/inbox/{id}/note               text: an internal note, never sent
    POST /console/inbox/{id}/call-back          "ring tilbage": takes it, shows the caller's
                                                number (a tel: link), audited
    POST /console/inbox/{id}/hand-back          the bot carries on (back to the list)
    POST /console/inbox/{id}/resolve            the matter is settled (back to the list)

Every console role but a helper may use the inbox (a helper gets 403); `ledger.casework`
scopes it by municipality, and an escalation outside it is the same 404 as a missing one.
A refused form (empty reply, a CPR number in a note, a closed conversation) shows the page
again with the message at the form and the text kept (CPR numbers redacted), so nothing is
typed twice and nothing changed.
The page works without JavaScript: a reload shows everything the polling would add.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, OfficeStaff
from api.console.pages.casework_helpers import (
    flash_message,
    redirect_with_flash,
    refusal_status,
    words,
)
from api.console.rendering import render, templates
from api.deps import LedgerDep
from api.schemas import MAX_ROW_ID, RowId
from casework.records import TranscriptEntry
from db.errors import DomainError
from staff import StaffPrincipal
from staff.redaction import redact_cpr

router = APIRouter(prefix="/console/inbox", include_in_schema=False)
SECTION = "inbox_pages"
INBOX_URL = "/console/inbox"
TEXT_LIMIT = 8000
"""Form bound well above the ledger's own limits, which refuse with a Danish message."""
TextField = Annotated[str, Form(max_length=TEXT_LIMIT)]
DELIVERY_BADGES = {"pending": "badge-warn", "sent": "badge-ok", "dead": "badge-danger"}
"""A staff reply's outbox state as a badge: venter, sendt, fejlet."""


def reason_label(reason: str) -> str:
    """"asked_for_person" -> "Bad om at tale med et menneske"; "crisis:suicide" -> "Krise:
    selvmordstanker"; a reason the page does not know is shown as recorded."""
    kind, _, detail = reason.partition(":")
    labels = words(SECTION)
    label = labels["reasons"].get(kind, reason)
    if detail:
        return f"{label}: {labels['crisis_kinds'].get(detail, detail)}"
    return str(label)


def _context() -> dict[str, Any]:
    return {"words": words(SECTION), "reason_label": reason_label,
            "delivery_badges": DELIVERY_BADGES}


def detail_url(escalation_id: RowId) -> str:
    return f"/console/inbox/{escalation_id}"


def _messages_html(entries: tuple[TranscriptEntry, ...]) -> str:
    """The same markup the page uses for each message (autoescaped), for the poller to add."""
    return templates.get_template("console/inbox_messages.html").render(
        entries=entries, **_context())


def _detail_page(
    request: Request, principal: StaffPrincipal, ledger: Backend, escalation_id: RowId, *,
    status_code: int = 200, error: str | None = None, form: str | None = None,
    text: str = "", call_number: str | None = None, flash: str | None = None,
) -> HTMLResponse:
    """The escalation in full; after a refusal, with the error at `form` and `text` kept."""
    escalation = ledger.casework.escalation(principal, escalation_id)
    return render(
        request, "console/escalation.html", principal, status_code=status_code,
        escalation=escalation,
        flash=flash or (None if error else flash_message(request, SECTION)),
        error=error, error_form=form, kept_text=redact_cpr(text), call_number=call_number,
        **_context())


@router.get("", response_class=HTMLResponse)
def inbox_page(request: Request, principal: OfficeStaff, ledger: LedgerDep) -> Response:
    items = ledger.casework.inbox(principal)
    return render(request, "console/inbox.html", principal, items=items,
                  flash=flash_message(request, SECTION), **_context())


@router.get("/rows")
def inbox_rows(request: Request, principal: OfficeStaff, ledger: LedgerDep) -> JSONResponse:
    """For the list's polling: the table body as the page renders it, and the count."""
    items = ledger.casework.inbox(principal)
    html = templates.get_template("console/inbox_rows.html").render(
        items=items, principal=principal, **_context())
    return JSONResponse({"html": html, "count": len(items)})


@router.get("/{escalation_id}", response_class=HTMLResponse)
def escalation_page(request: Request, principal: OfficeStaff, ledger: LedgerDep,
                    escalation_id: RowId) -> Response:
    return _detail_page(request, principal, ledger, escalation_id)


@router.get("/{escalation_id}/messages")
def new_messages(
    principal: OfficeStaff, ledger: LedgerDep, escalation_id: RowId,
    after: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> JSONResponse:
    """Messages after `after` (rendered), every staff reply's delivery state, the status."""
    update = ledger.casework.messages_since(principal, escalation_id, after)
    labels = words(SECTION)
    return JSONResponse({
        "html": _messages_html(update.entries),
        "count": len(update.entries),
        "last_message_id": update.last_message_id,
        "deliveries": {str(message_id): {"label": labels["delivery"].get(status, status),
                                         "badge": DELIVERY_BADGES.get(status, "")}
                       for message_id, status in update.deliveries},
        "status": update.status,
        "status_label": labels["statuses"].get(update.status, update.status),
    })


def _act(
    request: Request, principal: StaffPrincipal, ledger: Backend, escalation_id: RowId,
    flash: str, action: Callable[[], object], *, form: str | None = None, text: str = "",
    done_url: str | None = None,
) -> Response:
    """Runs one change; on success 303 to the page (or `done_url`) with `flash`, on a refusal
    the page again with the ledger's message (nothing was changed)."""
    try:
        action()
    except DomainError as refused:
        return _detail_page(request, principal, ledger, escalation_id,
                            status_code=refusal_status(refused), error=refused.message,
                            form=form, text=text)
    return redirect_with_flash(done_url or detail_url(escalation_id), SECTION, flash)


@router.post("/{escalation_id}/take")
def take(request: Request, principal: OfficeStaff, _: CsrfChecked, ledger: LedgerDep,
         escalation_id: RowId) -> Response:
    return _act(request, principal, ledger, escalation_id, "taken",
                lambda: ledger.casework.take(principal, escalation_id), form="status")


@router.post("/{escalation_id}/reply")
def reply(request: Request, principal: OfficeStaff, _: CsrfChecked, ledger: LedgerDep,
          escalation_id: RowId, text: TextField = "") -> Response:
    return _act(request, principal, ledger, escalation_id, "replied",
                lambda: ledger.casework.reply(principal, escalation_id, text),
                form="reply", text=text)


@router.post("/{escalation_id}/note")
def note(request: Request, principal: OfficeStaff, _: CsrfChecked, ledger: LedgerDep,
         escalation_id: RowId, text: TextField = "") -> Response:
    return _act(request, principal, ledger, escalation_id, "noted",
                lambda: ledger.casework.add_note(principal, escalation_id, text),
                form="note", text=text)


@router.post("/{escalation_id}/call-back")
def call_back(request: Request, principal: OfficeStaff, _: CsrfChecked, ledger: LedgerDep,
              escalation_id: RowId) -> Response:
    """"Ring tilbage": the page again with the caller's number as a tel: link. Shown in the
    answer to the POST, never in a URL, and only to whoever asked (the audit log says who)."""
    try:
        number = ledger.casework.call_back(principal, escalation_id)
    except DomainError as refused:
        return _detail_page(request, principal, ledger, escalation_id,
                            status_code=refusal_status(refused), error=refused.message,
                            form="status")
    return _detail_page(request, principal, ledger, escalation_id, call_number=number,
                        flash=str(words(SECTION)["flash"]["call_back"]))


@router.post("/{escalation_id}/hand-back")
def hand_back(request: Request, principal: OfficeStaff, _: CsrfChecked, ledger: LedgerDep,
              escalation_id: RowId) -> Response:
    return _act(request, principal, ledger, escalation_id, "handed_back",
                lambda: ledger.casework.hand_back(principal, escalation_id), form="status",
                done_url=INBOX_URL)


@router.post("/{escalation_id}/resolve")
def resolve(request: Request, principal: OfficeStaff, _: CsrfChecked, ledger: LedgerDep,
            escalation_id: RowId) -> Response:
    return _act(request, principal, ledger, escalation_id, "resolved",
                lambda: ledger.casework.resolve(principal, escalation_id), form="status",
                done_url=INBOX_URL)
