"""Small jobs' timed work, as the server runs it in the background loop of each process.

    hour prompts   every 5 minutes: ask employers for hours and pay once a task's window ended
    digests        every 15 minutes: the daily or weekly "Der er 3 nye opgaver i 8000 i dag"
                   (the ledger decides who is due, so running it often sends nothing twice)
    expiry         every 5 minutes: tasks whose window ended unfilled; stale reservations

Each is idempotent and uses the ledger's own clock (None: the unit of work's `now`), so
running it in several processes at once only costs a query; row locks and the "already
prompted / already sent" marks keep a message from going out twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from api.bootstrap import Backend
from api.scheduler import PeriodicJob

log = logging.getLogger(__name__)
PROMPTS_EVERY_S = 300.0
DIGESTS_EVERY_S = 900.0
EXPIRY_EVERY_S = 300.0
FIRST_RUN_AFTER_S = 30.0
"""Not in the first seconds after a start, while the server warms up."""


def _logged(name: str, run: Callable[[], int]) -> Callable[[], int]:
    def job() -> int:
        count = run()
        if count:
            log.info("%s: %d", name, count)
        return count
    return job


def smalljob_jobs(ledger: Backend, *, first_after_s: float = FIRST_RUN_AFTER_S) -> list[PeriodicJob]:
    """The three jobs for `BackgroundScheduler.add_job`; each reaches `ledger.tasks` when it runs."""
    return [
        PeriodicJob(name="task-hour-prompts", every_s=PROMPTS_EVERY_S,
                    first_after_s=first_after_s,
                    run=_logged("hour prompts sent", lambda: ledger.tasks.send_hour_prompts())),
        PeriodicJob(name="task-digests", every_s=DIGESTS_EVERY_S, first_after_s=first_after_s,
                    run=_logged("task digests sent", lambda: ledger.tasks.send_due_digests())),
        PeriodicJob(name="task-expiry", every_s=EXPIRY_EVERY_S, first_after_s=first_after_s,
                    run=_logged("tasks expired or released", lambda: ledger.tasks.expire_tasks())),
    ]
