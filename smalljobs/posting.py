"""Posting a task, cancelling it, and ending what time has run out on.

A task is posted by a verified employer only, for a known Danish postcode (its municipality
is stored, so the console can list tasks per municipality), with a window of days that has
not passed, plausible hours and pay, and 1 to 20 places. Free text is refused when it holds
a CPR number: task texts are shown to every card holder and on notice boards.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import exists, select

from conversations import notify
from db.commands import Actor
from db.observe import TaskActor, by_actor, note_task
from db.reference_data import postcode_municipalities
from db.task_tables import HELD, Task, TaskAssignment
from db.unit_of_work import UnitOfWork
from ledger.errors import EmployerNotVerified
from ledger.service.lookups import employer_by_cvr, normalise_cvr
from smalljobs import texts
from smalljobs.commands import PostTask
from smalljobs.errors import (
    PayPerHourImplausible,
    PlacesOutOfRange,
    TaskHoursImplausible,
    TaskNotFound,
    TaskNotOpen,
    TaskTitleRequired,
    TaskWindowInvalid,
    UnknownPostcode,
)
from smalljobs.records import TaskView
from smalljobs.timing import local_date
from smalljobs.views import locked_task, task_view
from staff.redaction import clean_text

MAX_PLACES = 20
MIN_HOURS = Decimal("0.25")
MIN_PAY_ORE = 50_00
MAX_PAY_ORE = 1_000_00
"""Pay per hour outside this is a typo (øre for kroner, a missing digit), not a wage."""
MAX_DAYS_AHEAD = 183
"""A window starting more than about half a year ahead is most likely a wrong date."""
OPEN = ("open", "filled")


def known_postcode(raw: str) -> tuple[str, str]:
    """(postcode, municipality code) for a Danish postcode, or UnknownPostcode."""
    postcode = raw.strip()
    found = postcode_municipalities(postcode) if len(postcode) == 4 else []
    if not found:
        raise UnknownPostcode(postcode=postcode[:10])
    return postcode, found[0]


def post_task(uow: UnitOfWork, cmd: PostTask, actor: Actor) -> TaskView:
    employer = employer_by_cvr(uow.session, cmd.employer_cvr)
    if not employer.verified:
        raise EmployerNotVerified(cvr=employer.cvr)
    title = clean_text(cmd.title, 200, missing=TaskTitleRequired)
    description = clean_text(cmd.description, 2000) if cmd.description.strip() else ""
    place = clean_text(cmd.place, 200) if cmd.place.strip() else ""
    postcode, municipality_code = known_postcode(cmd.postcode)
    _check_window(uow, cmd.window_start, cmd.window_end)
    days = (cmd.window_end - cmd.window_start).days + 1
    max_hours = Decimal(uow.config.max_hours_per_day * days)
    if not MIN_HOURS <= cmd.expected_hours <= max_hours or cmd.expected_hours != round(
            cmd.expected_hours, 2):
        raise TaskHoursImplausible(min_hours=texts.hours(MIN_HOURS),
                                   max_hours=texts.hours(max_hours))
    if not MIN_PAY_ORE <= cmd.pay_per_hour_ore <= MAX_PAY_ORE:
        raise PayPerHourImplausible(min_pay=texts.money(MIN_PAY_ORE),
                                    max_pay=texts.money(MAX_PAY_ORE))
    if not 1 <= cmd.places <= MAX_PLACES:
        raise PlacesOutOfRange(max_places=MAX_PLACES)
    task = Task(
        employer_id=employer.id, title=title, description=description, place=place,
        postcode=postcode, municipality_code=municipality_code,
        window_start=cmd.window_start, window_end=cmd.window_end,
        expected_hours_centi=int(cmd.expected_hours * 100),
        pay_per_hour_ore=cmd.pay_per_hour_ore, places=cmd.places, places_taken=0,
        audience=cmd.audience, status="open", actor=actor.name, created_at=uow.now)
    uow.session.add(task)
    uow.session.flush()
    uow.audit(actor, "task.post", "task", task.id, employer=employer.cvr, postcode=postcode,
              places=cmd.places, audience=cmd.audience)
    view = task_view(task, employer)
    uow.commit()
    note_task(uow.session, "task_posted", by_actor(actor, "employer"))
    return view


def _check_window(uow: UnitOfWork, start: dt.date, end: dt.date) -> None:
    if end < start:
        raise TaskWindowInvalid(reason=texts.text("window_reversed"))
    if start < uow.today:
        raise TaskWindowInvalid(reason=texts.text("window_past"))
    if (start - uow.today).days > MAX_DAYS_AHEAD:
        raise TaskWindowInvalid(reason=texts.text("window_far"))


def cancel_task(uow: UnitOfWork, task_id: int, *, employer_cvr: str | None,
                actor: Actor) -> TaskView:
    """Cancels a task and every place still held on it; the holders are told, plainly.

    `employer_cvr`: the employer asking (another employer's task is reported missing); None
    for staff, whose page checks the task is in their municipality first.
    """
    task, employer = locked_task(uow.session, task_id)
    if employer_cvr is not None and employer.cvr != normalise_cvr(employer_cvr):
        raise TaskNotFound(task_id=task_id)
    if task.status not in OPEN:
        raise TaskNotOpen(task_id=task_id)
    by: TaskActor = "employer" if employer_cvr is not None else "staff"
    view = task_view(task, employer)
    holding = uow.session.scalars(select(TaskAssignment).where(
        TaskAssignment.task_id == task.id,
        TaskAssignment.status.in_(HELD))).all()
    message = texts.text("holder_task_cancelled", title=task.title, employer=employer.name,
                         when=texts.when(view))
    for assignment in holding:
        assignment.status = "cancelled"
        assignment.cancelled_by = by
        assignment.ended_at = uow.now
        task.places_taken -= 1
        notify.to_holder(uow, assignment.card_id, message)
    task.status = "cancelled"
    task.ended_at = uow.now
    uow.audit(actor, "task.cancel", "task", task.id, by=by, assignments=len(holding))
    view = task_view(task, employer)
    uow.commit()
    note_task(uow.session, "task_cancelled", by)
    note_task(uow.session, "place_cancelled", by, len(holding))
    return view


def expire_tasks(uow: UnitOfWork, now: dt.datetime | None = None) -> int:
    """Releases reservations the employer did not confirm in time (the holder is told), then
    closes tasks whose window ended: "expired" with no one on them, "done" when everyone on
    them has been paid (the rest wait for the employer's hours). Returns how many changed.

    Run periodically by the server; each task is locked before it changes.
    """
    now = now or uow.now
    today = local_date(now)
    cutoff = now - dt.timedelta(seconds=uow.config.task_reservation_ttl_seconds)
    released = 0
    stale = uow.session.execute(
        select(TaskAssignment.id, TaskAssignment.task_id)
        .where(TaskAssignment.status == "reserved", TaskAssignment.reserved_at < cutoff)
        .order_by(TaskAssignment.task_id, TaskAssignment.id)).all()
    for assignment_id, task_id in stale:
        task, employer = locked_task(uow.session, task_id)
        assignment = uow.session.get(TaskAssignment, assignment_id, populate_existing=True,
                                     with_for_update=True)
        if assignment is None or assignment.status != "reserved":
            continue
        assignment.status = "cancelled"
        assignment.ended_at = now
        free_place(task, today)
        notify.to_holder(uow, assignment.card_id, texts.text(
            "holder_reservation_released", employer=employer.name, title=task.title))
        uow.audit(_SYSTEM, "task_assignment.release", "task_assignment", assignment.id)
        released += 1
    uow.session.flush()
    owed = exists().where(TaskAssignment.task_id == Task.id, TaskAssignment.status.in_(HELD))
    ended = uow.session.scalars(
        select(Task.id).where(Task.status.in_(OPEN), Task.window_end < today, ~owed)
        .order_by(Task.id)).all()
    closed = {"expired": 0, "done": 0}
    for task_id in ended:
        task, _ = locked_task(uow.session, task_id)
        if task.status not in OPEN or task.window_end >= today:
            continue
        if held(uow, task.id):
            continue  # taken meanwhile: the employer owes the hours
        # No one on it: expired; else everyone who came has been paid.
        task.status = "expired" if task.places_taken == 0 else "done"
        task.ended_at = now
        uow.audit(_SYSTEM, f"task.{task.status}", "task", task.id)
        closed[task.status] += 1
    uow.commit()
    note_task(uow.session, "place_released", "system", released)
    note_task(uow.session, "task_expired", "system", closed["expired"])
    note_task(uow.session, "task_done", "system", closed["done"])
    return released + sum(closed.values())


def held(uow: UnitOfWork, task_id: int) -> bool:
    """Someone still holds a place (reserved or confirmed) on the task."""
    return uow.session.scalar(select(TaskAssignment.id).where(
        TaskAssignment.task_id == task_id,
        TaskAssignment.status.in_(HELD)).limit(1)) is not None


def free_place(task: Task, today: dt.date) -> None:
    """A place given back (a cancellation, a no-show, a released reservation)."""
    task.places_taken -= 1
    if task.status == "filled" and task.window_end >= today:
        task.status = "open"


_SYSTEM = Actor(name="system:tasks", channel="system")
