"""The outreach sweep as a job of the server's background loop (every process runs it; the
keys in the database make sure each message goes once)."""

from __future__ import annotations

from api.bootstrap import Backend
from api.scheduler import PeriodicJob
from api.smalljob_jobs import FIRST_RUN_AFTER_S
from outreach.sweep import run_sweep


def outreach_job(ledger: Backend, *, every_s: float,
                 first_after_s: float = FIRST_RUN_AFTER_S) -> PeriodicJob:
    return PeriodicJob(name="outreach", every_s=every_s, first_after_s=first_after_s,
                       run=lambda: len(run_sweep(ledger.outreach).sent))
