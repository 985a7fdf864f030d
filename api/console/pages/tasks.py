"""Opgaver: small jobs in the user's municipality (issue 6).

    GET  /console/tasks?status=open           the list, fill rate, median time to fill and
                                              tasks that expired unfilled (last 90 days),
                                              and the form to post a task
    POST /console/tasks                       post a task on a verified employer's behalf
    GET  /console/tasks/print?municipality=   the notice-board page for a værested: large
                                              type, open tasks only, no personal data
    GET  /console/tasks/{task_id}             the task and who has a place on it
    POST /console/tasks/{task_id}/cancel      cancel it; whoever had a place is told, plainly

Caseworkers, employer consultants and administrators see and post tasks; a helper (værested
or herberg staff) sees them and signs people up (api/console/pages/helpers.py), but does
not post or cancel. Tasks belong to the municipality of their postcode: another
municipality's task is the same 404 as a missing one. A task shows no card holder until one
takes it, and then only their first name and Frikort-ID (what the employer learns too); a
helper sees only the people on their own phone list.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, not_found, require_roles
from api.console.pages import casework_helpers
from api.console.pages.card_forms import FormError
from api.console.pages.cards import error_status, municipality_choices
from api.console.pages.overview import ledger_today
from api.console.pages.task_forms import POST_FIELDS, SECTION, post_task
from api.console.rendering import render
from api.deps import LedgerDep
from api.schemas import RowId
from db.errors import DomainError
from smalljobs.records import AssignmentView, PhoneListEntry, TaskView
from staff import Role, StaffPrincipal
from staff.redaction import redact_cpr

router = APIRouter(prefix="/console/tasks", include_in_schema=False)
VIEW_ROLES: tuple[Role, ...] = ("caseworker", "employer_consultant", "admin", "helper")
POST_ROLES: tuple[Role, ...] = ("caseworker", "employer_consultant", "admin")
SIGN_UP_ROLES: tuple[Role, ...] = ("helper", "admin")
"""Who keeps a phone list and signs card holders up on their behalf."""
TaskViewer = Annotated[StaffPrincipal, Depends(require_roles(*VIEW_ROLES))]
TaskPoster = Annotated[StaffPrincipal, Depends(require_roles(*POST_ROLES))]
StatusFilter = Literal["open", "filled", "done", "expired", "cancelled", "all"]
Field = Annotated[str, Form(max_length=200)]
LongField = Annotated[str, Form(max_length=2000)]
TASKS_URL = "/console/tasks"
CANCELLABLE = ("open", "filled")


def words() -> dict[str, Any]:
    return casework_helpers.words(SECTION)


def task_url(task_id: RowId) -> str:
    return f"{TASKS_URL}/{task_id}"


def redirect_with_flash(path: str, key: str) -> RedirectResponse:
    return casework_helpers.redirect_with_flash(path, SECTION, key)


def visible_task(ledger: Backend, principal: StaffPrincipal, task_id: RowId) -> TaskView:
    """The task if it is in the user's municipality; otherwise the plain 404."""
    task = ledger.tasks.task(task_id)
    if not principal.sees(task.municipality_code):
        not_found()
    return task


def task_assignments(ledger: Backend, principal: StaffPrincipal,
                     task: TaskView) -> list[AssignmentView]:
    """Who has (or had) a place on the task. A helper sees only the people on their own
    phone list: the others are none of their business."""
    found = [a for a in ledger.tasks.assignments_for_employer(task.employer_cvr,
                                                              active_only=False)
             if a.task.id == task.id]
    if principal.role == "helper":
        mine = {entry.card_number for entry in ledger.tasks.phone_list(principal)}
        found = [a for a in found if a.card_number in mine]
    return sorted(found, key=lambda a: a.reserved_at)


def task_page(
    request: Request, principal: StaffPrincipal, ledger: Backend, task_id: RowId, *,
    status_code: int = 200, error: str | None = None, error_form: str | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    """One task; after a refused form, with the error at that form and what was typed."""
    task = visible_task(ledger, principal, task_id)
    assignments = task_assignments(ledger, principal, task)
    signable: list[PhoneListEntry] = []
    if principal.role in SIGN_UP_ROLES and task.status == "open" and task.places_free:
        # Only a cancelled place may be taken again (the ledger's rule).
        taken = {a.card_number for a in assignments if a.status != "cancelled"}
        signable = [e for e in ledger.tasks.phone_list(principal) if e.card_number not in taken]
    can_cancel = principal.role in POST_ROLES and task.status in CANCELLABLE
    if error_form == "cancel" and not can_cancel:
        error_form = None  # the form is gone (the task was cancelled): the error goes on top
    return render(
        request, "console/task.html", principal, status_code=status_code, task=task,
        assignments=assignments, words=words(), error=error, error_form=error_form,
        values={key: redact_cpr(value) for key, value in (values or {}).items()},
        flash=None if error else casework_helpers.flash_message(request, SECTION),
        can_cancel=can_cancel, can_sign_up=principal.role in SIGN_UP_ROLES,
        signable=signable, links_to_cards=principal.role in ("caseworker", "admin"))


def list_page(
    request: Request, principal: StaffPrincipal, ledger: Backend, status: StatusFilter, *,
    status_code: int = 200, error: str | None = None, values: dict[str, str] | None = None,
) -> HTMLResponse:
    w = words()
    today = ledger_today(ledger)
    since = today - dt.timedelta(days=int(w["stats_days"]))
    employers = ([e for e in ledger.casework.employers(principal, None) if e.verified]
                 if principal.role in POST_ROLES else [])
    stats = ledger.tasks.task_stats(principal, since)
    hours_to_fill = (None if stats.median_hours_to_fill is None
                     else dt.timedelta(hours=stats.median_hours_to_fill))
    return render(
        request, "console/tasks.html", principal, status_code=status_code,
        tasks=ledger.tasks.tasks_overview(principal, None if status == "all" else status),
        status=status, words=w, stats=stats, since=since, hours_to_fill=hours_to_fill,
        fill_percent=round(stats.fill_rate * 100), employers=employers, today=today,
        can_post=principal.role in POST_ROLES, error=error,
        values={key: redact_cpr(value) for key, value in (values or {}).items()},
        flash=None if error else casework_helpers.flash_message(request, SECTION))


@router.get("", response_class=HTMLResponse)
def tasks_page(request: Request, principal: TaskViewer, ledger: LedgerDep,
               status: StatusFilter = "open") -> Response:
    return list_page(request, principal, ledger, status)


@router.post("", response_class=HTMLResponse)
def post(
    request: Request, principal: TaskPoster, _: CsrfChecked, ledger: LedgerDep,
    cvr: Field = "", title: Field = "", description: LongField = "", place: Field = "",
    postcode: Field = "", window_start: Field = "", window_end: Field = "", hours: Field = "",
    pay_per_hour: Field = "", places: Field = "", audience: Field = "open",
) -> Response:
    """Posts the task as the employer's, with the console user as actor in the audit log."""
    given = dict(zip(POST_FIELDS, (cvr, title, description, place, postcode, window_start,
                                   window_end, hours, pay_per_hour, places, audience),
                     strict=True))
    try:
        view = ledger.tasks.post_task(post_task(given), actor=principal.actor)
    except FormError as refused:
        return list_page(request, principal, ledger, "open", status_code=422,
                         error=refused.message, values=given)
    except DomainError as refused:
        return list_page(request, principal, ledger, "open", values=given,
                         status_code=error_status(refused), error=refused.message)
    if principal.sees(view.municipality_code):
        return redirect_with_flash(task_url(view.id), "posted")
    return redirect_with_flash(TASKS_URL, "posted_elsewhere")


def sms_number(raw: str | None) -> str | None:
    """The service's SMS number as people write it: "+4512345678" -> "12 34 56 78"."""
    if not raw:
        return None
    digits = raw.replace(" ", "")
    if digits.startswith("+45") and len(digits) == 11 and digits[3:].isdigit():
        return " ".join(digits[i:i + 2] for i in range(3, 11, 2))
    return raw


@router.get("/print", response_class=HTMLResponse)
def print_page(request: Request, principal: TaskViewer, ledger: LedgerDep,
               municipality: str = "") -> Response:
    """Open tasks of one municipality for the notice board. An administrator chooses the
    municipality; everyone else prints their own."""
    code = principal.municipality_code if not principal.is_admin else municipality.strip()
    choices = municipality_choices()
    context: dict[str, Any] = {"words": words(), "municipalities": choices,
                               "municipality": code or "", "today": ledger_today(ledger)}
    if not code:
        return render(request, "console/tasks_print.html", principal, tasks=None, **context)
    if code not in dict(choices):
        return render(request, "console/tasks_print.html", principal, status_code=422,
                      tasks=None, error=words()["form_errors"]["municipality"], **context)
    number = sms_number(request.app.state.settings.TWILIO_FROM_NUMBER)
    call = (words()["print"]["call_to_action"].format(number=number) if number
            else words()["print"]["call_to_action_no_number"])
    # Only tasks anyone with a card may take: one for an employer's own list is no use on a
    # notice board.
    shown = [t for t in ledger.tasks.printable_open_tasks(code) if t.audience == "open"]
    return render(request, "console/tasks_print.html", principal, call_to_action=call,
                  tasks=shown, **context)


@router.get("/{task_id}", response_class=HTMLResponse)
def task(request: Request, principal: TaskViewer, ledger: LedgerDep,
         task_id: RowId) -> Response:
    return task_page(request, principal, ledger, task_id)


@router.post("/{task_id}/cancel", response_class=HTMLResponse)
def cancel(request: Request, principal: TaskPoster, _: CsrfChecked, ledger: LedgerDep,
           task_id: RowId) -> Response:
    visible_task(ledger, principal, task_id)
    try:
        ledger.tasks.cancel_task(task_id, employer_cvr=None, actor=principal.actor)
    except DomainError as refused:
        return task_page(request, principal, ledger, task_id, error=refused.message,
                         status_code=casework_helpers.refusal_status(refused),
                         error_form="cancel")
    return redirect_with_flash(task_url(task_id), "cancelled")
