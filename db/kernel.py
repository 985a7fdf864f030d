"""The database kernel every domain service shares: engines, the clock, the CPR vault, the
observer, and units of work with the retry loop.

Each service (`ledger.Ledger`, `conversations.Conversations`, `casework.Casework`, ...) takes
one `Kernel` and nothing else of the others; `api.bootstrap` builds one per process and wires
the services side by side. A command runs in `run_write`: one transaction, retried from the
start on a serialisation failure, a deadlock, a busy SQLite or a unique-key race.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError

from db.config import LedgerConfig
from db.engine import make_engines, session_factory
from db.errors import Conflict
from db.observe import LedgerObserver
from db.unit_of_work import Clock, UnitOfWork
from db.vault import CprVault

log = logging.getLogger(__name__)
R = TypeVar("R")
MAX_ATTEMPTS = 8


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _retryable(exc: DBAPIError) -> bool:
    """Serialisation failures, deadlocks, busy SQLite and unique-key races: run it again.

    A unique-key race (two workers inserting the same idempotency key) is retried because
    the second run reads the winner's row and answers as a replay or a conflict. Any other
    integrity error (a CHECK constraint) is a bug in our rules and must surface, not loop.
    """
    sqlstate = getattr(exc.orig, "sqlstate", None)
    text = str(exc.orig).lower()
    if isinstance(exc, IntegrityError):
        return sqlstate == "23505" or "unique constraint failed" in text
    if sqlstate in {"40001", "40P01"}:
        return True
    return "database is locked" in text or "database is busy" in text


class Kernel:
    """One per process: what every domain service runs its units of work on."""

    def __init__(self, config: LedgerConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self._engines = make_engines(config)
        self._write = session_factory(self._engines.write)
        self._read = session_factory(self._engines.read)
        self.vault = CprVault(config.cpr_encryption_key, config.cpr_hash_key)
        self.clock: Clock = clock or _utcnow
        self.observer = LedgerObserver()
        """Told about committed commands and refusals (the api counts them for /metrics)."""

    def close(self) -> None:
        self._engines.dispose()

    def unit_of_work(self, *, write: bool) -> UnitOfWork:
        return UnitOfWork(self._write if write else self._read, config=self.config,
                          vault=self.vault, clock=self.clock)

    def run_write(self, work: Callable[[UnitOfWork], R]) -> R:
        """Runs `work` in a write transaction, again from the start on a retryable failure.

        `work` commits itself when it succeeds; anything else is rolled back.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.unit_of_work(write=True) as uow:
                    return work(uow)
            except DBAPIError as exc:
                if not _retryable(exc) or attempt == MAX_ATTEMPTS:
                    if isinstance(exc, IntegrityError) and _retryable(exc):
                        raise Conflict("unique key still taken after retries") from exc
                    raise
                log.info("retrying after %s (attempt %d)", type(exc.orig).__name__, attempt)
                time.sleep(min(0.002 * 2**attempt, 0.2))
        raise AssertionError("unreachable")

    def run_read(self, work: Callable[[UnitOfWork], R]) -> R:
        with self.unit_of_work(write=False) as uow:
            return work(uow)
