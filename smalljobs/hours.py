"""After the work: the employer is asked for hours and pay, and the answer becomes a wage
report through the ledger's own rules (the cap split, idempotency, the audit log).

`send_hour_prompts` asks about every confirmed assignment whose window has ended, once, and
stores when (`hours_prompted_at`): the bot reads `pending_hour_prompts` to know which
assignment an employer's reply "3 timer 450 kr" is about (the oldest prompt first).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import or_, select

from conversations import notify
from db.commands import Actor
from db.observe import note_task
from db.tables import Card, Employer, Employment, IdempotencyRecord
from db.task_tables import Task, TaskAssignment
from db.unit_of_work import UnitOfWork
from ledger.commands import CreateEmployment, ReportWage
from ledger.results import WageReportResult
from ledger.service import employments, reports
from ledger.service.lookups import employer_by_cvr, normalise_cvr
from smalljobs import texts
from smalljobs.posting import held
from smalljobs.records import AssignmentView
from smalljobs.taking import check_employer, not_active
from smalljobs.timing import local_date
from smalljobs.views import assignment_query, assignment_view, locked_assignment

_SYSTEM = Actor(name="system:tasks", channel="system")


def send_hour_prompts(uow: UnitOfWork, now: dt.datetime | None = None) -> int:
    """Asks the employer about each confirmed assignment whose window has ended; returns how
    many were asked about. Each assignment is asked about once."""
    now = now or uow.now
    today = local_date(now)
    due = uow.session.execute(
        assignment_query()
        .where(TaskAssignment.status == "confirmed", TaskAssignment.hours_prompted_at.is_(None),
               Task.window_end < today)
        .order_by(TaskAssignment.id).with_for_update(of=TaskAssignment)).all()
    for row in due:
        assignment, task, employer, _card, _citizen = row
        assignment.hours_prompted_at = now
        view = assignment_view(row)
        notify.to_employer(uow, employer.id, texts.text(
            "hours_prompt", first_name=view.holder_first_name, title=task.title))
        uow.audit(_SYSTEM, "task_assignment.hours_prompt", "task_assignment", assignment.id)
    uow.commit()
    note_task(uow.session, "hours_prompted", "system", len(due))
    return len(due)


def pending_hour_prompts(uow: UnitOfWork, employer_cvr: str) -> list[AssignmentView]:
    """Assignments the employer was asked about and has not answered, oldest prompt first."""
    employer = employer_by_cvr(uow.session, employer_cvr)
    rows = uow.session.execute(
        assignment_query()
        .where(Task.employer_id == employer.id, TaskAssignment.status == "confirmed",
               TaskAssignment.hours_prompted_at.is_not(None))
        .order_by(TaskAssignment.hours_prompted_at, TaskAssignment.id))
    return [assignment_view(row) for row in rows]


def pending_prompt_cards(uow: UnitOfWork, employer_cvr: str) -> list[str]:
    """The card numbers of `pending_hour_prompts`, in one light read: every message of an
    employer that carries hours or an amount asks whether it answers a prompt, and the
    answer is nearly always no (no entities loaded for that, no second statement)."""
    return list(uow.session.scalars(
        select(Card.number)
        .join(TaskAssignment, TaskAssignment.card_id == Card.id)
        .join(Task, Task.id == TaskAssignment.task_id)
        .join(Employer, Employer.id == Task.employer_id)
        .where(Employer.cvr == normalise_cvr(employer_cvr), TaskAssignment.status == "confirmed",
               TaskAssignment.hours_prompted_at.is_not(None))
        .order_by(TaskAssignment.hours_prompted_at, TaskAssignment.id)))


def record_task_hours(uow: UnitOfWork, assignment_id: int, *, employer_cvr: str,
                      hours: Decimal, amount_ore: int, actor: Actor,
                      idempotency_key: str) -> WageReportResult:
    """The employer's hours and pay for a confirmed assignment become a posted wage report.

    Creates the employment first if the employer has none covering the work (as the bot's
    wage-report flow does), then reports through `reports.report_wage` with `post=True`: what
    is over the year's cap is split off by the ledger's rules. The holder is told what was
    reported. The same key again answers with the first result and changes nothing; another
    report for a done assignment is refused (AssignmentNotActive).
    """
    row = locked_assignment(uow.session, assignment_id)
    check_employer(row, employer_cvr, assignment_id)
    assignment, task, employer, card, _citizen = row
    if assignment.status == "done":
        return _replay(uow, assignment, employer.cvr, idempotency_key)
    if assignment.status != "confirmed":
        raise not_active(assignment.status)
    work_to = min(task.window_end, uow.today)
    work_from = min(task.window_start, work_to)
    cmd = ReportWage(employer_cvr=employer.cvr, card_number=card.number, paid_on=uow.today,
                     hours=hours, amount_ore=amount_ore, idempotency_key=idempotency_key,
                     post=True, work_from=work_from, work_to=work_to)
    if not _employed(uow, employer.id, card.id, work_from, work_to):
        with uow.nested() as nested:
            employments.create_employment(CreateEmployment(
                employer_cvr=employer.cvr, card_number=card.number, start_date=work_from,
                weekly_hours=min(hours, Decimal(168)) if hours > 0 else Decimal(1)),
                uow=nested, actor=actor)
    with uow.nested() as nested:
        result = reports.report_wage(cmd, uow=nested, actor=actor)
    assignment.status = "done"
    assignment.ended_at = uow.now
    assignment.wage_report_id = result.id
    uow.session.flush()
    task_done = task.status in ("open", "filled") and not held(uow, task.id) and (
        task.status == "filled" or task.window_end < uow.today)
    if task_done:
        task.status = "done"
        task.ended_at = uow.now
    uow.audit(actor, "task_assignment.hours", "task_assignment", assignment.id,
              report=result.id)
    message = texts.text("holder_hours_reported", employer=employer.name,
                         hours=texts.hours(result.hours), amount=texts.money(result.amount_ore),
                         title=task.title)
    if result.over_cap_ore:
        over = texts.text("holder_hours_over_cap", over=texts.money(result.over_cap_ore))
        message = f"{message} {over}"
    notify.to_holder(uow, card.id, message)
    uow.commit()
    note_task(uow.session, "hours_reported", "employer")
    note_task(uow.session, "task_done", "employer", int(task_done))
    return result


def _replay(uow: UnitOfWork, assignment: TaskAssignment, cvr: str,
            key: str) -> WageReportResult:
    stored = uow.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.scope == cvr, IdempotencyRecord.key == key))
    if stored is None or stored.report_id != assignment.wage_report_id:
        raise not_active(assignment.status)
    original = WageReportResult.model_validate_json(stored.result_json)
    return original.model_copy(update={"replayed": True})


def _employed(uow: UnitOfWork, employer_id: int, card_id: int, work_from: dt.date,
              work_to: dt.date) -> bool:
    return uow.session.scalar(select(Employment.id).where(
        Employment.employer_id == employer_id, Employment.card_id == card_id,
        Employment.start_date <= work_from,
        or_(Employment.end_date.is_(None), Employment.end_date >= work_to)).limit(1)) is not None
