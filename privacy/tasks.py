"""Small jobs in access requests and erasure: a card holder's places on tasks, the employers'
own lists they are on, their digest opt-in and the helpers' phone lists they are on.

Erasure follows the line of `erasure.py`. What the books need stays: a place paid through a
wage report is kept (its consent note is anonymised), because it ties the report to the task.
A place still held (reserved or confirmed) is kept whole and reported, like an undecided
application: the employer or a caseworker settles it first. A place that ended without pay
(cancelled, no-show) is deleted: it is no part of the books, and the audit log, which is kept,
still records that it happened. The lists and the opt-in exist only to offer the person work,
so their rows are deleted (with a phone-list entry goes the helper's consent note).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import Session

from danish.money import format_kroner
from db.console_tables import StaffUser
from db.tables import AuditRecord, Employer, WageReport
from db.task_tables import (
    HELD,
    EmployerKnownPerson,
    HelperPhoneListEntry,
    JobDigest,
    Task,
    TaskAssignment,
)
from db.unit_of_work import UnitOfWork
from privacy.scope import ERASED, PersonScope
from smalljobs.views import locked_task

PERSONAL_AUDIT_ACTIONS = ("task.take", "known_person.add", "known_person.remove")
"""Audit actions whose subject is someone else's record but whose details name the card."""


def _value(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row(row: object, *columns: str) -> dict[str, Any]:
    return {name: _value(getattr(row, name)) for name in columns}


def _hours(centi: int | None) -> str | None:
    return None if centi is None else f"{centi / 100:.2f}"


# Access ------------------------------------------------------------------------------------


def export_tasks(session: Session, scope: PersonScope) -> dict[str, list[dict[str, Any]]]:
    """The person's small-job data, by card, ids ascending."""
    ids = scope.card_ids
    numbers = {card.id: card.number for card in scope.cards}
    return {
        "task_assignments": _assignments(session, ids, numbers),
        "employer_lists": [
            _row(known, "created_at") | {"card_number": numbers[known.card_id],
                                         "employer_cvr": cvr, "employer_name": name,
                                         "added_by": known.actor}
            for known, cvr, name in session.execute(
                select(EmployerKnownPerson, Employer.cvr, Employer.name)
                .join(Employer, Employer.id == EmployerKnownPerson.employer_id)
                .where(EmployerKnownPerson.card_id.in_(ids))
                .order_by(EmployerKnownPerson.card_id, EmployerKnownPerson.employer_id))],
        "job_digests": [
            _row(digest, "postcode", "frequency", "created_at", "last_sent_at")
            | {"card_number": numbers[digest.card_id]}
            for digest in session.scalars(select(JobDigest).where(JobDigest.card_id.in_(ids))
                                          .order_by(JobDigest.card_id))],
        "helper_phone_lists": [
            _row(entry, "id", "consent_note", "created_at")
            | {"card_number": numbers[entry.card_id], "helper": username,
               "helper_name": display_name}
            for entry, username, display_name in session.execute(
                select(HelperPhoneListEntry, StaffUser.username, StaffUser.display_name)
                .join(StaffUser, StaffUser.id == HelperPhoneListEntry.staff_user_id)
                .where(HelperPhoneListEntry.card_id.in_(ids))
                .order_by(HelperPhoneListEntry.id))],
    }


def _assignments(session: Session, card_ids: list[int],
                 numbers: dict[int, str]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(TaskAssignment, Task, Employer.cvr, Employer.name, WageReport.hours_centi,
               WageReport.amount_ore)
        .join(Task, Task.id == TaskAssignment.task_id)
        .join(Employer, Employer.id == Task.employer_id)
        .outerjoin(WageReport, WageReport.id == TaskAssignment.wage_report_id)
        .where(TaskAssignment.card_id.in_(card_ids)).order_by(TaskAssignment.id)).all()
    return [_row(a, "id", "status", "via", "helper", "consent_note", "reserved_at",
                 "confirmed_at", "ended_at", "cancelled_by", "hours_prompted_at",
                 "wage_report_id") | {
        "card_number": numbers[a.card_id],
        "hours_reported": _hours(hours),
        "amount_reported": None if amount is None else format_kroner(amount),
        "task": _row(task, "id", "title", "description", "place", "postcode", "window_start",
                     "window_end", "status") | {
            "employer_cvr": cvr, "employer_name": name,
            "expected_hours": _hours(task.expected_hours_centi),
            "pay_per_hour": format_kroner(task.pay_per_hour_ore)},
    } for a, task, cvr, name, hours, amount in rows]


def task_audit_conditions(session: Session, scope: PersonScope,
                          assignment_ids: list[int]) -> list[ColumnElement[bool]]:
    """Audit rows about the person's places (also those since deleted by an erasure: found
    through the `task.take` rows naming the card), the lists they were put on, and the
    phone-list entries made for them."""
    numbers = [card.number for card in scope.cards]
    if not numbers:
        return []
    names_card = or_(*[AuditRecord.details_json.contains(f'"card": {json.dumps(n)}')
                       for n in numbers])
    naming = and_(AuditRecord.action.in_(PERSONAL_AUDIT_ACTIONS), names_card)
    taken = {entity for entity, in session.execute(
        select(AuditRecord.entity_id).where(AuditRecord.action == "task.take", names_card))}
    entries = set()
    for details, in session.execute(select(AuditRecord.details_json).where(
            AuditRecord.action == "phone_list.add", AuditRecord.entity_type == "card",
            AuditRecord.entity_id.in_(numbers))):
        entry = json.loads(details or "{}").get("entry")
        if entry is not None:
            entries.add(str(entry))
    conditions = [naming]
    places = sorted(taken | {str(i) for i in assignment_ids})
    if places:
        conditions.append(and_(AuditRecord.entity_type == "task_assignment",
                               AuditRecord.entity_id.in_(places)))
    if entries:
        conditions.append(and_(AuditRecord.entity_type == "phone_list",
                               AuditRecord.entity_id.in_(sorted(entries))))
    return conditions


# Erasure -----------------------------------------------------------------------------------


@dataclass
class TaskErasure:
    """Counts for the erasure report."""

    task_places: int = 0
    """Places that ended without pay, deleted."""
    task_consent_notes: int = 0
    """Consent notes anonymised on places kept with the books."""
    employer_lists: int = 0
    job_digests: int = 0
    phone_list_entries: int = 0


def erase_tasks(uow: UnitOfWork, scope: PersonScope, kept: list[str]) -> TaskErasure:
    """Erases the card holder's small-job data as the module says; appends what is kept."""
    done = TaskErasure()
    ids = scope.card_ids
    if not ids:
        return done
    session = uow.session
    _erase_places(session, ids, done, kept)
    done.employer_lists = _rowcount(session.execute(
        delete(EmployerKnownPerson).where(EmployerKnownPerson.card_id.in_(ids))))
    done.job_digests = _rowcount(session.execute(
        delete(JobDigest).where(JobDigest.card_id.in_(ids))))
    done.phone_list_entries = _rowcount(session.execute(
        delete(HelperPhoneListEntry).where(HelperPhoneListEntry.card_id.in_(ids))))
    session.flush()
    return done


def _erase_places(session: Session, card_ids: list[int], done: TaskErasure,
                  kept: list[str]) -> None:
    # Tasks are locked first and in id order, as taking and the expiry job do: a place being
    # taken again at this moment waits, and is then a new row.
    found = session.execute(select(TaskAssignment.id, TaskAssignment.task_id).where(
        TaskAssignment.card_id.in_(card_ids)).order_by(TaskAssignment.task_id,
                                                        TaskAssignment.id)).all()
    paid: list[int] = []
    for assignment_id, task_id in found:
        locked_task(session, task_id)
        place = session.get(TaskAssignment, assignment_id, populate_existing=True,
                            with_for_update=True)
        if place is None:
            continue
        if place.status in HELD:
            kept.append(f"task place {place.id} on task {place.task_id} ({place.status}): "
                        "still held, kept whole; cancel it, or let the employer report the "
                        "hours, then erase again")
        elif place.wage_report_id is not None:
            paid.append(place.wage_report_id)
            if place.consent_note is not None and place.consent_note != ERASED:
                place.consent_note = ERASED
                done.task_consent_notes += 1
        else:
            session.delete(place)
            done.task_places += 1
    if paid:
        reports = ", ".join(str(report) for report in sorted(paid))
        kept.append(f"task places paid through wage reports {reports}: kept with the books "
                    "(consent notes erased)")
    session.flush()


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
