"""Taking a place on a task, and what the two sides do with it afterwards.

The last place goes to exactly one person. `take_task` locks the task's row first (SELECT
... FOR UPDATE on PostgreSQL; on SQLite the write transaction's BEGIN IMMEDIATE already
holds the database's write lock), reads `places_taken` fresh under that lock and raises it
in the same transaction; a CHECK keeps it at or below `places` should a writer ever skip the
lock. Every later step (confirm, cancel, no-show, hours) takes the task's lock first too, so
the count never drifts.

Privacy: the employer learns the holder's first name and Frikort-ID only here, once the
holder has taken the task; the holder learns the employer's phone once it is confirmed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from conversations import notify
from db.commands import Actor
from db.console_tables import StaffUser
from db.observe import note_task
from db.task_tables import HELD, EmployerKnownPerson, HelperPhoneListEntry, Task, TaskAssignment
from db.unit_of_work import UnitOfWork
from ledger.errors import CardNotActive
from ledger.service.lookups import card_by_number, employer_by_cvr, normalise_cvr
from smalljobs import texts
from smalljobs.errors import (
    AssignmentNotActive,
    AssignmentNotFound,
    ConsentRequired,
    NotOnPhoneList,
    TaskAlreadyTaken,
    TaskFull,
    TaskNotOpen,
    TaskOwnListOnly,
)
from smalljobs.posting import free_place
from smalljobs.records import AssignmentView, CancelledBy, Via
from smalljobs.views import (
    assignment_query,
    assignment_view,
    get_assignment,
    get_task,
    locked_assignment,
    locked_task,
)


def take_task(uow: UnitOfWork, task_id: int, card_number: str, *, via: Via, actor: Actor,
              helper: str | None = None, consent_note: str | None = None) -> AssignmentView:
    """Reserves a place for the card holder and tells the employer and the holder.

    A helper (`via="helper"`) signs up only someone on their own phone list, with the
    holder's consent written down. Raises ConsentRequired, NotOnPhoneList, CardNotFound,
    CardNotActive, TaskNotFound, TaskNotOpen, TaskOwnListOnly, TaskAlreadyTaken, TaskFull.
    """
    session = uow.session
    card = card_by_number(session, card_number)
    helper_name = None
    consent = None
    if via == "helper":
        consent = (consent_note or "").strip()
        if not helper or not consent:
            raise ConsentRequired()
        helper_name = _helper_on_list(uow, helper, card.id, card.number)
    if card.status != "active":
        raise CardNotActive(number=card.number)
    task, employer = locked_task(session, task_id)
    if task.status not in ("open", "filled") or task.window_end < uow.today:
        raise TaskNotOpen(task_id=task_id)
    if task.audience == "own_list" and session.get(
            EmployerKnownPerson, (employer.id, card.id)) is None:
        raise TaskOwnListOnly(task_id=task_id)
    assignment = session.scalar(select(TaskAssignment).where(
        TaskAssignment.task_id == task.id, TaskAssignment.card_id == card.id))
    if assignment is not None and assignment.status != "cancelled":
        raise TaskAlreadyTaken(task_id=task_id)
    if task.places_taken >= task.places:
        raise TaskFull(task_id=task_id)
    if assignment is None:
        assignment = TaskAssignment(task_id=task.id, card_id=card.id)
        session.add(assignment)
    assignment.status = "reserved"
    assignment.via = via
    assignment.helper = helper if via == "helper" else None
    assignment.consent_note = consent
    assignment.reserved_at = uow.now
    assignment.confirmed_at = assignment.ended_at = assignment.cancelled_by = None
    assignment.hours_prompted_at = None
    task.places_taken += 1
    if task.places_taken == task.places:
        task.status = "filled"
        task.filled_at = task.filled_at or uow.now
    session.flush()
    uow.audit(actor, "task.take", "task_assignment", assignment.id, task=task.id,
              card=card.number, via=via, helper=assignment.helper)
    view = assignment_view(session.execute(
        assignment_query().where(TaskAssignment.id == assignment.id)).one())
    _tell_taken(uow, view, employer.id, card.id, helper_name)
    uow.commit()
    note_task(uow.session, "place_taken",
              "helper" if via == "helper" else "staff" if via == "console" else "holder")
    return view


def _helper_on_list(uow: UnitOfWork, username: str, card_id: int, number: str) -> str:
    """The helper's display name, when the card is on their own phone list."""
    row = uow.session.execute(
        select(StaffUser.display_name)
        .join(HelperPhoneListEntry, HelperPhoneListEntry.staff_user_id == StaffUser.id)
        .where(StaffUser.username == username, StaffUser.active.is_(True),
               HelperPhoneListEntry.card_id == card_id)).first()
    if row is None:
        raise NotOnPhoneList(number=number)
    return str(row[0])


def _tell_taken(uow: UnitOfWork, view: AssignmentView, employer_id: int, card_id: int,
                helper_name: str | None) -> None:
    task = view.task
    notify.to_employer(uow, employer_id, texts.text(
        "employer_taken", first_name=view.holder_first_name, number=view.card_number,
        title=task.title, when=texts.when(task), assignment=view.id))
    values = {"title": task.title, "employer": task.employer_name, "when": texts.when(task),
              "where": texts.where(task), "assignment": view.id}
    if helper_name:
        notify.to_holder(uow, card_id, texts.text("holder_reserved_by_helper",
                                                  helper=helper_name, **values))
    else:
        notify.to_holder(uow, card_id, texts.text("holder_reserved", **values))


def check_employer(row: Any, employer_cvr: str | None, assignment_id: int) -> None:
    """Another employer's assignment is reported missing, like one that does not exist."""
    if employer_cvr is not None and row[2].cvr != normalise_cvr(employer_cvr):
        raise AssignmentNotFound(assignment_id=assignment_id)


def not_active(status: str) -> AssignmentNotActive:
    return AssignmentNotActive(status=texts.status_word(status))


def confirm_assignment(uow: UnitOfWork, assignment_id: int, *, employer_cvr: str,
                       actor: Actor) -> AssignmentView:
    """The employer confirms; both sides get the practical details. Confirming twice answers
    as the first time and sends nothing more."""
    row = locked_assignment(uow.session, assignment_id)
    check_employer(row, employer_cvr, assignment_id)
    assignment, task, employer, card, _citizen = row
    if assignment.status == "confirmed":
        return assignment_view(row)
    if assignment.status != "reserved":
        raise not_active(assignment.status)
    assignment.status = "confirmed"
    assignment.confirmed_at = uow.now
    uow.audit(actor, "task_assignment.confirm", "task_assignment", assignment.id)
    view = assignment_view(row)
    shown = view.task
    phone = notify.employer_phone(uow.session, employer.id)
    values = {"title": shown.title, "where": texts.where(shown), "when": texts.when(shown),
              "hours": texts.hours(shown.expected_hours), "employer": shown.employer_name}
    if phone:
        notify.to_holder(uow, card.id, texts.text("holder_confirmed", phone=phone, **values))
    else:
        notify.to_holder(uow, card.id, texts.text("holder_confirmed_no_phone", **values))
    notify.to_employer(uow, employer.id, texts.text(
        "employer_confirmed", first_name=view.holder_first_name, number=view.card_number,
        title=shown.title, when=texts.when(shown)))
    uow.commit()
    note_task(uow.session, "place_confirmed", "employer")
    return view


def cancel_assignment(uow: UnitOfWork, assignment_id: int, *, by: CancelledBy, actor: Actor,
                      reason: str = "", employer_cvr: str | None = None,
                      card_number: str | None = None) -> AssignmentView:
    """Either side (or staff) cancels, without blame: the other side gets a plain message
    and the place opens again. The reason goes to the audit log only."""
    row = locked_assignment(uow.session, assignment_id)
    check_employer(row, employer_cvr, assignment_id)
    assignment, task, employer, card, _citizen = row
    if card_number is not None and card.number != card_number.strip():
        raise AssignmentNotFound(assignment_id=assignment_id)
    if assignment.status not in HELD:
        raise not_active(assignment.status)
    assignment.status = "cancelled"
    assignment.cancelled_by = by
    assignment.ended_at = uow.now
    free_place(task, uow.today)
    uow.audit(actor, "task_assignment.cancel", "task_assignment", assignment.id, by=by,
              reason=reason[:500])
    view = assignment_view(row)
    shown = view.task
    if by in ("employer", "staff"):
        notify.to_holder(uow, card.id, texts.text(
            "holder_task_cancelled", title=shown.title, employer=shown.employer_name,
            when=texts.when(shown)))
    if by in ("holder", "staff"):
        key = "employer_holder_cancelled" if by == "holder" else "employer_staff_cancelled"
        notify.to_employer(uow, employer.id, texts.text(
            key, first_name=view.holder_first_name, number=view.card_number,
            title=shown.title))
    uow.commit()
    note_task(uow.session, "place_cancelled", by)
    return view


def mark_no_show(uow: UnitOfWork, assignment_id: int, *, employer_cvr: str,
                 actor: Actor) -> AssignmentView:
    """The holder did not come: the place opens again and the holder gets a plain word."""
    row = locked_assignment(uow.session, assignment_id)
    check_employer(row, employer_cvr, assignment_id)
    assignment, task, employer, card, _citizen = row
    if assignment.status not in HELD:
        raise not_active(assignment.status)
    assignment.status = "no_show"
    assignment.ended_at = uow.now
    free_place(task, uow.today)
    uow.audit(actor, "task_assignment.no_show", "task_assignment", assignment.id)
    notify.to_holder(uow, card.id, texts.text("holder_no_show", employer=employer.name,
                                              title=task.title))
    view = assignment_view(row)
    uow.commit()
    note_task(uow.session, "place_no_show", "employer")
    return view


def assignment(uow: UnitOfWork, assignment_id: int) -> AssignmentView:
    return assignment_view(get_assignment(uow.session, assignment_id))


def assignments_for_card(uow: UnitOfWork, card_number: str,
                         active_only: bool = True) -> list[AssignmentView]:
    """The holder's places, soonest window first; `active_only`: reserved or confirmed."""
    card = card_by_number(uow.session, card_number)
    stmt = assignment_query().where(TaskAssignment.card_id == card.id)
    return _listed(uow, stmt, active_only)


def assignments_for_employer(uow: UnitOfWork, cvr: str,
                             active_only: bool = True) -> list[AssignmentView]:
    employer = employer_by_cvr(uow.session, cvr)
    stmt = assignment_query().where(Task.employer_id == employer.id)
    return _listed(uow, stmt, active_only)


def assignments_for_task(uow: UnitOfWork, task_id: int,
                         active_only: bool = False) -> list[AssignmentView]:
    """Everyone who has (or had) a place on the task; the caller checks who may see them."""
    get_task(uow.session, task_id)
    stmt = assignment_query().where(TaskAssignment.task_id == task_id)
    return _listed(uow, stmt, active_only)


def _listed(uow: UnitOfWork, stmt: Select[Any], active_only: bool) -> list[AssignmentView]:
    if active_only:
        stmt = stmt.where(TaskAssignment.status.in_(HELD))
    stmt = stmt.order_by(Task.window_start, TaskAssignment.id)
    return [assignment_view(row) for row in uow.session.execute(stmt)]

