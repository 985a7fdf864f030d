"""CPU and memory of the server's process tree, the database backends and the generator.

CPU is the change in user+system time over a phase divided by its wall time, in percent of
one core (200 % = both cores of this machine busy). Memory is the largest resident set of
the server's whole tree (uvicorn's supervisor and its workers) seen during the phase,
sampled every half second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Sequence

import psutil

__all__ = ["ResourceMonitor", "load_average"]


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def _cpu(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            found[pid] = times.user + times.system
    return found


def _tree(pid: int) -> list[int]:
    try:
        root = psutil.Process(pid)
        return [pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.Error:
        return []


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += psutil.Process(pid).memory_info().rss
    return total / 2**20


class ResourceMonitor:
    """``start()`` before a phase, ``await stop()`` after it; a new monitor per phase."""

    def __init__(self, server_pid: int | Sequence[int] | None,
                 database_pids: Callable[[], list[int]] | None = None) -> None:
        """`server_pid`: the server's process, or each instance's when there are several."""
        self._server_roots = ([] if server_pid is None else
                              [server_pid] if isinstance(server_pid, int) else list(server_pid))
        self._database_pids = database_pids
        self._task: asyncio.Task[None] | None = None
        self._max_rss = 0.0
        self._t0 = 0.0
        self._server0: dict[int, float] = {}
        self._db0: dict[int, float] = {}
        self._self0 = 0.0
        self.load_before = ""

    def _server_pids(self) -> list[int]:
        return [pid for root in self._server_roots for pid in _tree(root)]

    def _db_pids(self) -> list[int]:
        if self._database_pids is None:
            return []
        try:
            return self._database_pids()
        except Exception:  # a monitoring query must never stop the run
            return []

    def start(self) -> None:
        self.load_before = load_average()
        self._t0 = time.perf_counter()
        self._server0 = _cpu(self._server_pids())
        self._db0 = _cpu(self._db_pids())
        times = psutil.Process().cpu_times()
        self._self0 = times.user + times.system
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        # The tree is listed once: psutil finds children by reading every process in /proc,
        # which would cost the generator more CPU than the sampling itself.
        pids = self._server_pids()
        while True:
            self._max_rss = max(self._max_rss, _rss_mb(pids))
            await asyncio.sleep(0.5)

    async def stop(self) -> dict[str, float | None]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        wall = time.perf_counter() - self._t0
        server = _cpu(self._server_pids())
        times = psutil.Process().cpu_times()
        usage: dict[str, float | None] = {
            "server_cpu_pct": _delta(self._server0, server) / wall * 100 if server else None,
            "server_cpu_s": _delta(self._server0, server) if server else None,
            "server_rss_mb": max(self._max_rss, _rss_mb(self._server_pids())) or None,
            "generator_cpu_pct": (times.user + times.system - self._self0) / wall * 100,
            "db_cpu_pct": None,
        }
        if self._database_pids is not None:
            db = _cpu(self._db_pids())
            usage["db_cpu_pct"] = _delta(self._db0, db) / wall * 100 if db else None
        return usage


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between the snapshots; a process born in between counts whole."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())
