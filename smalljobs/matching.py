"""Which open tasks a card holder may take, nearest first.

"Near" is measured without coordinates, which we do not have: a task in the same postcode
comes first, then one in the same municipality, then by the numeric distance between the
postcodes (Danish postcodes run roughly along the map, so 8000 and 8200 are neighbours and
8000 and 2100 are not). Between equally near tasks the shortest comes first, because the
people this is for look for something they can manage on a good day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from db.reference_data import postcode_municipalities
from db.tables import Card
from db.task_tables import ACTIVE_ASSIGNMENT, EmployerKnownPerson, JobDigest, Task, TaskAssignment
from db.unit_of_work import UnitOfWork
from ledger.errors import CardNotActive
from ledger.service.lookups import card_by_number, employer_by_cvr
from smalljobs.records import TaskView
from smalljobs.views import get_task, task_query, task_view


def task(uow: UnitOfWork, task_id: int) -> TaskView:
    """Any task by id: a TaskView holds no personal data."""
    return task_view(*get_task(uow.session, task_id))


def tasks_for_employer(uow: UnitOfWork, cvr: str, active_only: bool = True) -> list[TaskView]:
    """The employer's own tasks, newest first; `active_only`: still open or filled."""
    employer = employer_by_cvr(uow.session, cvr)
    stmt = task_query().where(Task.employer_id == employer.id)
    if active_only:
        stmt = stmt.where(Task.status.in_(("open", "filled")))
    return [task_view(t, e) for t, e in uow.session.execute(stmt.order_by(Task.id.desc()))]


def takeable_by(card: Card, today: dt.date) -> ColumnElement[bool]:
    """SQL: the task is one this card's holder may take now (a free place, the window not
    over, open to all or the holder on the employer's own list, not already theirs)."""
    on_list = exists().where(EmployerKnownPerson.employer_id == Task.employer_id,
                             EmployerKnownPerson.card_id == card.id)
    theirs = exists().where(TaskAssignment.task_id == Task.id,
                            TaskAssignment.card_id == card.id,
                            TaskAssignment.status.in_(ACTIVE_ASSIGNMENT + ("no_show",)))
    return and_(Task.status == "open", Task.places_taken < Task.places,
                Task.window_end >= today, or_(Task.audience == "open", on_list), ~theirs)


def tasks_for_card(uow: UnitOfWork, card_number: str, *, postcode: str | None = None,
                   limit: int = 3) -> list[TaskView]:
    """Open tasks the holder may take, nearest first, then fewest hours (see the module).

    Near `postcode` when given, else the postcode of the holder's digest, else the card's
    municipality. Raises CardNotFound, or CardNotActive for a deactivated card.
    """
    session = uow.session
    card = card_by_number(session, card_number)
    if card.status != "active":
        raise CardNotActive(number=card.number)
    if postcode is None:
        postcode = session.scalar(select(JobDigest.postcode).where(JobDigest.card_id == card.id))
    postcode = (postcode or "").strip()
    municipalities = postcode_municipalities(postcode) if postcode else []
    home = municipalities or [card.municipality_code]
    order: list[ColumnElement[Any] | InstrumentedAttribute[Any]] = []
    if municipalities:
        order.append(case((Task.postcode == postcode, 0), else_=1))
    order.append(case((Task.municipality_code.in_(home), 0), else_=1))
    if municipalities:
        order.append(func.abs(cast(Task.postcode, Integer) - literal(int(postcode))))
    order += [Task.expected_hours_centi, Task.window_start, Task.id]
    rows = session.execute(task_query().where(takeable_by(card, uow.today))
                           .order_by(*order).limit(limit))
    return [task_view(t, e) for t, e in rows]
