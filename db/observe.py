"""What the ledger tells a monitoring system: commands that succeeded, refusals, expiries, and
what happens to small jobs.

The ledger knows nothing about Prometheus. `Ledger.observer` is a `LedgerObserver` that does
nothing; the api puts its own subclass there (api/metrics.py). An observer is told about a
command only once its transaction committed (a retried transaction is counted once), and an
observer that fails is logged and ignored: monitoring never breaks a wage report.

Small jobs (`ledger.tasks`) run inside someone else's transaction (a conversation turn, or
the task service's own), so each of their functions only notes what it did on the session
(`note_task`, after its own commit); whoever commits the outer transaction hands the notes
to the observer (`take_task_events`, `notify_tasks`). A transaction rolled back or retried
takes its notes with it: a new attempt gets a new session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy.orm import Session

from db.commands import Actor
from db.errors import DomainError

log = logging.getLogger(__name__)

Outcome = tuple[str, object]
"""(command class name, its result or the DomainError that refused it)."""

TaskAction = Literal[
    "task_posted", "task_cancelled", "task_expired", "task_done",
    "place_taken", "place_confirmed", "place_cancelled", "place_no_show", "place_released",
    "hours_prompted", "hours_reported", "digest_sent",
]
TaskActor = Literal["holder", "helper", "employer", "staff", "system"]
"""Who did it: a fixed handful of values, so a metric label stays low-cardinality."""
TASK_ACTIONS: tuple[str, ...] = get_args(TaskAction)
TASK_ACTORS: tuple[str, ...] = get_args(TaskActor)
_PENDING = "db.observe.task_events"


@dataclass(frozen=True)
class TaskEvent:
    action: TaskAction
    by: TaskActor
    count: int = 1


class LedgerObserver:
    """Override what you need; every method is called after the change committed."""

    def command_succeeded(self, command: str, result: object) -> None:
        """A command ran; `result` is its result value (a replayed report has `replayed`)."""

    def command_refused(self, command: str, code: str) -> None:
        """A command was refused with this stable error code; nothing was changed by it."""

    def reports_expired(self, count: int) -> None:
        """The expiry job freed this many unconfirmed reservations."""

    def task_action(self, action: TaskAction, by: TaskActor, count: int) -> None:
        """`count` small-job actions of this kind were committed (see `TaskAction`)."""


def notify(observer: LedgerObserver, outcomes: Iterable[Outcome]) -> None:
    """Tells `observer` about each outcome; its own failures are logged, never raised."""
    for command, outcome in outcomes:
        try:
            if isinstance(outcome, DomainError):
                observer.command_refused(command, outcome.code)
            else:
                observer.command_succeeded(command, outcome)
        except Exception:  # monitoring must never fail a command that already committed
            log.exception("ledger observer failed on %s", command)


def notify_expired(observer: LedgerObserver, count: int) -> None:
    try:
        observer.reports_expired(count)
    except Exception:
        log.exception("ledger observer failed on expiry")


def note_task(session: Session, action: TaskAction, by: TaskActor, count: int = 1) -> None:
    """Notes a small-job action done in the session's transaction (call it after the step's
    own commit, so a step that failed notes nothing)."""
    if count > 0:
        session.info.setdefault(_PENDING, []).append(TaskEvent(action, by, count))


def by_actor(actor: Actor, default: TaskActor) -> TaskActor:
    """Console users are staff, the server's own jobs the system; anyone else `default`."""
    if actor.channel == "console":
        return "staff"
    return "system" if actor.channel == "system" else default


def take_task_events(session: Session) -> list[TaskEvent]:
    """The notes of the session's transaction, once: call it after the outer commit."""
    events: list[TaskEvent] = session.info.pop(_PENDING, [])
    return events


def notify_tasks(observer: LedgerObserver, events: Iterable[TaskEvent]) -> None:
    for event in events:
        try:
            observer.task_action(event.action, event.by, event.count)
        except Exception:
            log.exception("ledger observer failed on %s", event.action)
