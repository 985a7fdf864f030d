"""The retention job as the server runs it: once a day in the background loop of each process.

Running it in every worker process is harmless: it is idempotent, and works in short batches
(see privacy/retention.py). It also forgets failed console logins whose lock and
window are over (`StaffService.prune_login_throttle`). `frikort retention run` does the same
on demand.
"""

from __future__ import annotations

import logging
import uuid

from api import logging_setup
from api.bootstrap import Backend
from api.metrics import Metrics
from api.scheduler import PeriodicJob
from api.settings import Settings
from db.commands import Actor
from privacy import RetentionReport

log = logging.getLogger(__name__)
RETENTION_ACTOR = Actor(name="system:retention", channel="system")
DAY_S = 24 * 3600.0
FIRST_RUN_AFTER_S = 300.0
"""Not in the first minutes after a start: a restart loop should not also run retention."""


def run_retention_once(ledger: Backend, settings: Settings,
                       metrics: Metrics | None = None) -> RetentionReport:
    token = logging_setup.new_context(request_id=f"retention-{uuid.uuid4().hex[:12]}")
    try:
        report = ledger.privacy.run_retention(older_than_days=settings.RETENTION_DAYS,
                                               actor=RETENTION_ACTOR)
        if metrics is not None:
            metrics.retention_done(report)
        log.info("retention: %d rows anonymised (texts older than %s)", report.total,
                 report.cutoff.date().isoformat(), extra={
                     key: value for key, value in report.as_dict().items()
                     if isinstance(value, int) and not isinstance(value, bool)})
        pruned = ledger.staff.prune_login_throttle()
        if pruned:
            log.info("retention: %d expired login-throttle rows deleted", pruned)
        return report
    finally:
        logging_setup.reset(token)


def retention_job(ledger: Backend, settings: Settings, metrics: Metrics | None = None,
                  *, first_after_s: float = FIRST_RUN_AFTER_S) -> PeriodicJob:
    return PeriodicJob(name="retention", every_s=DAY_S, first_after_s=first_after_s,
                       run=lambda: run_retention_once(ledger, settings, metrics))
