"""The base of the ledger's API sections (`ledger.casework`, `ledger.tasks`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ledger.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from ledger.facade import Ledger

R = TypeVar("R")


class LedgerPart:
    """A section of the facade: its methods run in the ledger's units of work and retries."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def _read(self, work: Callable[[UnitOfWork], R]) -> R:
        return self._ledger.run_read(work)

    def _write(self, work: Callable[[UnitOfWork], R]) -> R:
        """`work` commits itself when it succeeds (retried whole on a serialisation failure)."""
        return self._ledger.run_write(work)
