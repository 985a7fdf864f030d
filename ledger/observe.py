"""What the ledger tells a monitoring system: commands that succeeded, refusals, expiries.

The ledger knows nothing about Prometheus. `Ledger.observer` is a `LedgerObserver` that does
nothing; the api puts its own subclass there (api/metrics.py). An observer is told about a
command only once its transaction committed (a retried transaction is counted once), and an
observer that fails is logged and ignored: monitoring never breaks a wage report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ledger.errors import LedgerError

log = logging.getLogger(__name__)

Outcome = tuple[str, object]
"""(command class name, its result or the LedgerError that refused it)."""


class LedgerObserver:
    """Override what you need; every method is called after the change committed."""

    def command_succeeded(self, command: str, result: object) -> None:
        """A command ran; `result` is its result value (a replayed report has `replayed`)."""

    def command_refused(self, command: str, code: str) -> None:
        """A command was refused with this stable error code; nothing was changed by it."""

    def reports_expired(self, count: int) -> None:
        """The expiry job freed this many unconfirmed reservations."""


def notify(observer: LedgerObserver, outcomes: Iterable[Outcome]) -> None:
    """Tells `observer` about each outcome; its own failures are logged, never raised."""
    for command, outcome in outcomes:
        try:
            if isinstance(outcome, LedgerError):
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
