"""Sampling profiles of the running server's workers during chosen phases (`--profile DIR`).

Why here and not around `Dialogue.handle` in one process: the cost of a message is spread over
uvicorn, Starlette/FastAPI, the signature check, the NLU, the dialogue, the ORM, the driver,
logging, metrics and the outbox loop that runs beside the webhooks in every worker. Only the
real server under the harness's traffic shows all of them in their real proportions, with the
real contention between the event loop, the thread pool and the outbox.

py-spy (a sampling profiler that reads the target's memory from outside, via ptrace: the
workers are not changed or restarted) is attached to every uvicorn worker for one phase and
stopped (SIGINT, which makes it write its output) when the phase ends. Each worker gets one
recorder writing `--format raw` collapsed stacks (`<phase>-worker<k>.txt`, for
`profile_areas.summarize`), and its flame graph (`<phase>-worker<k>.svg`) is drawn from that
file (flamegraph.py): a second py-spy per worker for `--format flamegraph` would double the
cost. The recorders still take CPU from the server on a small machine (a profiled phase is
slower than an unprofiled one: compare shares within a profile, not its rate with another
run's), which is why profiling is an option and not the default.

`--gil`: only the thread holding the GIL is sampled. A worker is one Python process with a
GIL, so that thread is where its CPU goes; sampling every thread instead counts the threads
that wait (the thread pool's idle workers, a request waiting for PostgreSQL, the event loop in
epoll) as if they worked, and py-spy's idle filter missed most of them here. Work done with the
GIL released (libpq inside psycopg, waiting for the database) is therefore not in the profile:
PostgreSQL's own CPU is the harness's DB CPU column, and the round trips are counted apart
(docs/load-bench.md, statements per turn).

`python -m benchmarks.load.profile DIR` prints where the CPU goes (`profile_areas.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks.load.flamegraph import read_collapsed, render_svg

__all__ = ["PROFILE_PHASES", "ProfileSession", "worker_pids"]

PROFILE_PHASES = ("fixed", "saturation", "cost")
"""The kinds of phase `--profile-phases` may name."""
STOP_TIMEOUT_S = 30.0
"""py-spy writes its file on SIGINT, at most a second or two after it."""


def worker_pids(server_pid: int) -> list[int]:
    """The processes that serve requests: uvicorn's spawned workers when it has any (the
    supervisor only watches them; multiprocessing's resource tracker serves nothing), else the
    one process that is both (`--workers 1`)."""
    try:
        children = psutil.Process(server_pid).children(recursive=True)
    except psutil.Error:
        return []
    workers = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            if any("spawn_main" in part for part in child.cmdline()):
                workers.append(child.pid)
    return sorted(workers) or [server_pid]


def _py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy is not installed (pip install py-spy) but --profile was given")
    return found


@dataclass
class _Recording:
    """The recorders of one phase, one raw file per worker."""

    name: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)


@dataclass
class ProfileSession:
    """Profiles the phases of one server run whose kind is in `phases`."""

    directory: Path
    server_pid: int | None
    phases: frozenset[str]
    prefix: str
    rate_hz: int = 200
    """py-spy's samples per second; lower it when py-spy says it is behind in sampling."""
    nonblocking: bool = False
    """py-spy's `--nonblocking`: do not pause the worker while reading its stack (for when
    ptrace may not stop it; slightly less accurate stacks)."""
    written: list[Path] = field(default_factory=list)

    def wants(self, kind: str) -> bool:
        return kind in self.phases and self.server_pid is not None

    def _start(self, name: str) -> _Recording:
        assert self.server_pid is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        recording = _Recording(name)
        py_spy = _py_spy()
        for k, pid in enumerate(worker_pids(self.server_pid), start=1):
            output = self.directory / f"{name}-worker{k}.txt"
            command = [py_spy, "record", "--pid", str(pid), "--rate", str(self.rate_hz), "--gil",
                       "--format", "raw", "-o", str(output)]
            if self.nonblocking:
                command.append("--nonblocking")
            log = (self.directory / f"{name}-worker{k}.log").open("wb")
            recording.processes.append(subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            log.close()
            recording.outputs.append(output)
        return recording

    def _stop(self, recording: _Recording) -> None:
        for process in recording.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in recording.processes:
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for k, raw in enumerate(recording.outputs, start=1):
            if not raw.exists():
                continue
            svg = raw.with_suffix(".svg")
            svg.write_text(render_svg(read_collapsed([raw]), f"{recording.name}, worker {k}"),
                           encoding="utf-8")
            self.written.extend((raw, svg))

    @contextlib.asynccontextmanager
    async def phase(self, kind: str, label: str) -> AsyncIterator[None]:
        """Records the workers while the body runs, if this kind of phase is profiled. The
        recorders are stopped in a thread: py-spy needs seconds to write a flame graph, and
        the fake providers on this event loop must keep answering the outbox meanwhile."""
        if not self.wants(kind):
            yield
            return
        name = f"{self.prefix}-{_slug(label)}"
        recording = self._start(name)
        try:
            yield
        finally:
            await asyncio.to_thread(self._stop, recording)


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-").replace(
        "--", "-")


if __name__ == "__main__":
    from benchmarks.load.profile_areas import main

    main()
