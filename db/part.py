"""The base of a domain service that runs its methods on the shared kernel."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from db.kernel import Kernel
from db.unit_of_work import UnitOfWork

R = TypeVar("R")


class KernelPart:
    """A domain service: its methods run in the kernel's units of work and retries."""

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel

    def _read(self, work: Callable[[UnitOfWork], R]) -> R:
        return self._kernel.run_read(work)

    def _write(self, work: Callable[[UnitOfWork], R]) -> R:
        """`work` commits itself when it succeeds (retried whole on a serialisation failure)."""
        return self._kernel.run_write(work)
