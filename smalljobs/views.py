"""Rows to the frozen values of `smalljobs.records`, and the lookups every module needs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from db.base import one_of
from db.reference_data import postcode_town
from db.tables import Card, Citizen, Employer
from db.task_tables import Task, TaskAssignment
from smalljobs.errors import AssignmentNotFound, TaskNotFound
from smalljobs.records import AUDIENCES, TASK_STATUS_VALUES, AssignmentView, TaskView
from smalljobs.texts import first_name


def task_query() -> Select[tuple[Task, Employer]]:
    return select(Task, Employer).join(Employer, Employer.id == Task.employer_id)


def task_view(task: Task, employer: Employer) -> TaskView:
    return TaskView(
        id=task.id, employer_cvr=employer.cvr, employer_name=employer.name, title=task.title,
        description=task.description, place=task.place, postcode=task.postcode,
        town=postcode_town(task.postcode) or "", municipality_code=task.municipality_code,
        window_start=task.window_start, window_end=task.window_end,
        expected_hours=Decimal(task.expected_hours_centi) / 100,
        pay_per_hour_ore=task.pay_per_hour_ore, places=task.places,
        places_taken=task.places_taken, audience=one_of(task.audience, AUDIENCES),
        status=one_of(task.status, TASK_STATUS_VALUES), created_at=task.created_at,
    )


def locked_task(session: Session, task_id: int) -> tuple[Task, Employer]:
    """The task under its row lock (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already
    holds the database's write lock), read fresh so the counts are the committed ones."""
    row = session.execute(
        task_query().where(Task.id == task_id)
        .with_for_update(of=Task).execution_options(populate_existing=True)).first()
    if row is None:
        raise TaskNotFound(task_id=task_id)
    return row[0], row[1]


def get_task(session: Session, task_id: int) -> tuple[Task, Employer]:
    row = session.execute(task_query().where(Task.id == task_id)).first()
    if row is None:
        raise TaskNotFound(task_id=task_id)
    return row[0], row[1]


def assignment_query() -> Select[tuple[TaskAssignment, Task, Employer, Card, Citizen]]:
    return (select(TaskAssignment, Task, Employer, Card, Citizen)
            .join(Task, Task.id == TaskAssignment.task_id)
            .join(Employer, Employer.id == Task.employer_id)
            .join(Card, Card.id == TaskAssignment.card_id)
            .join(Citizen, Citizen.id == Card.citizen_id))


def assignment_view(row: Any) -> AssignmentView:
    """From one row of `assignment_query`."""
    assignment, task, employer, card, citizen = row
    return AssignmentView(
        id=assignment.id, task=task_view(task, employer), card_number=card.number,
        holder_first_name=first_name(citizen.name), status=assignment.status,
        via=assignment.via, helper=assignment.helper, reserved_at=assignment.reserved_at,
        confirmed_at=assignment.confirmed_at, ended_at=assignment.ended_at,
        wage_report_id=assignment.wage_report_id,
        hours_prompted_at=assignment.hours_prompted_at,
        cancelled_by=assignment.cancelled_by,
    )


def locked_assignment(session: Session, assignment_id: int) -> Any:
    """The assignment and its task, both locked (the task first, as `take_task` locks it),
    as a row of `assignment_query`. Raises AssignmentNotFound."""
    task_id = session.scalar(select(TaskAssignment.task_id).where(
        TaskAssignment.id == assignment_id))
    if task_id is None:
        raise AssignmentNotFound(assignment_id=assignment_id)
    locked_task(session, task_id)
    row = session.execute(
        assignment_query().where(TaskAssignment.id == assignment_id)
        .with_for_update(of=TaskAssignment).execution_options(populate_existing=True)).first()
    if row is None:
        raise AssignmentNotFound(assignment_id=assignment_id)
    return row


def get_assignment(session: Session, assignment_id: int) -> Any:
    row = session.execute(assignment_query().where(TaskAssignment.id == assignment_id)).first()
    if row is None:
        raise AssignmentNotFound(assignment_id=assignment_id)
    return row
