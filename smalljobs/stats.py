"""What the console shows about tasks: the list per municipality, fill rate, time to fill,
tasks that expired unfilled, and the printable notice-board page.

Scoped like casework: everyone but an administrator sees their own municipality's tasks.
Tasks hold no personal data, so every console role may read them.
"""

from __future__ import annotations

import datetime as dt
import statistics

from sqlalchemy import select

from db.errors import InvalidInput
from db.task_tables import TASK_STATUSES, Task
from db.unit_of_work import UnitOfWork
from ledger.service.lookups import municipality
from smalljobs.records import TaskStats, TaskView
from smalljobs.timing import COPENHAGEN
from smalljobs.views import task_query, task_view
from staff.access import in_scope
from staff.principal import StaffPrincipal


def tasks_overview(uow: UnitOfWork, principal: StaffPrincipal,
                   status: str | None = None) -> list[TaskView]:
    """The municipality's tasks, soonest window first (a `status` of TASK_STATUSES or all)."""
    if status is not None and status not in TASK_STATUSES:
        raise InvalidInput(f"unknown task status {status!r}")
    stmt = task_query().where(in_scope(principal, Task.municipality_code))
    if status is not None:
        stmt = stmt.where(Task.status == status)
    rows = uow.session.execute(stmt.order_by(Task.window_start, Task.id))
    return [task_view(t, e) for t, e in rows]


def task_stats(uow: UnitOfWork, principal: StaffPrincipal, since: dt.date) -> TaskStats:
    """For tasks posted on or after `since` (Danish date)."""
    start = dt.datetime.combine(since, dt.time(), COPENHAGEN)
    rows = uow.session.execute(
        select(Task.created_at, Task.filled_at, Task.status, Task.places_taken)
        .where(in_scope(principal, Task.municipality_code), Task.created_at >= start)).all()
    posted = len(rows)
    fill_hours = [(filled - created).total_seconds() / 3600
                  for created, filled, _, _ in rows if filled is not None]
    expired = sum(1 for _, _, status, _ in rows if status == "expired")
    return TaskStats(
        posted=posted, filled=len(fill_hours),
        fill_rate=len(fill_hours) / posted if posted else 0.0,
        median_hours_to_fill=round(statistics.median(fill_hours), 1) if fill_hours else None,
        expired_unfilled=expired)


def printable_open_tasks(uow: UnitOfWork, municipality_code: str) -> list[TaskView]:
    """Open tasks with a free place and a window not over, for the notice board."""
    municipality(uow.session, municipality_code)
    rows = uow.session.execute(
        task_query().where(Task.municipality_code == municipality_code, Task.status == "open",
                           Task.places_taken < Task.places, Task.window_end >= uow.today)
        .order_by(Task.window_start, Task.postcode, Task.id))
    return [task_view(t, e) for t, e in rows]


