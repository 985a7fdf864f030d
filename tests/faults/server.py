"""`frikort serve` as a real subprocess, for fault tests that kill, stop and restart it.

Unlike tests/e2e/live.py (uvicorn in a thread of the test process) the server here is the
production entry point: `frikort serve --workers N` in a process group of its own, configured
only through its environment, so a test can SIGKILL every worker at once and start it again on
the same port and database. The test process reaches the same database through a ledger built
from the same settings (`ServerProcess.settings()`), e.g. to seed identities or read results.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from api.settings import Settings
from tests.api.channel_fixtures import (
    ADMIN_KEY,
    BOT_TOKEN,
    TELEGRAM_SECRET,
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
)
from tests.fakes.http_server import LOOPBACK, RunningServer, free_port, serve_asgi
from tests.fakes.twilio_api import FakeTwilio

__all__ = ["PROVIDER_TIMEOUT_S", "ServerConfig", "ServerFailed", "ServerProcess", "fake_twilio",
           "free_port"]

FRIKORT = Path(sys.executable).with_name("frikort")
"""The console script of the virtualenv the tests run in."""
OUTBOX_POLL_S = "0.2"
_KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")
"""The only variables taken from the test's own environment: nothing of a developer's
DATABASE_URL, TWILIO_* or .env can leak into the server under test (PYTHONPATH is kept so a
run from another checkout serves that checkout's code)."""
PROVIDER_TIMEOUT_S = 15.0
"""How long the fake Twilio sits on a request in "timeout" mode: longer than the sender's own
10-second timeout, so the server sees a timeout, as with a provider that hangs."""


@contextmanager
def fake_twilio(
    slow_delay_s: float = PROVIDER_TIMEOUT_S,
) -> Iterator[tuple[FakeTwilio, RunningServer]]:
    """A fake Twilio of its own on loopback, for the account the server is configured with;
    in "timeout" mode it answers after ``slow_delay_s`` (past the sender's timeout: a hang;
    below it: a slow provider that accepts)."""
    fake = FakeTwilio(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN,
                      slow_delay_s=slow_delay_s)
    with serve_asgi(fake.app) as server:
        try:
            yield fake, server
        finally:
            fake.release()  # ends "timeout" sleeps, so the server thread can stop


class ServerFailed(RuntimeError):
    """The server did not start (or did not stop) as asked; the message ends with its log."""


@dataclass
class ServerConfig:
    database_url: str
    """SQLAlchemy URL the server uses."""
    twilio_api_base_url: str
    """The loopback fake Twilio."""
    telegram_api_base_url: str | None = None
    workers: int = 2
    port: int | None = None
    """None: a free loopback port is picked once and kept across restarts."""
    extra_env: dict[str, str] = field(default_factory=dict)
    """Overrides and additions, applied last (e.g. SENDER_RATE_LIMIT_PER_MINUTE)."""
    nlu_cache_dir: Path | None = None
    """Where the trained NLU model is cached; the fixture trains it once per machine."""


class ServerProcess:
    """`frikort serve` as a real subprocess in its own process group (uvicorn, N workers)."""

    def __init__(self, config: ServerConfig, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.port = config.port if config.port is not None else free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.workdir = log_path.parent
        """The working directory: a test's own, so no `.env` or `var/` of the repo is used."""
        self.env = self._environment()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    # Configuration --------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        config = self.config
        env = {name: os.environ[name] for name in _KEPT_ENV if name in os.environ}
        env.update({
            "ENVIRONMENT": "development",
            "DATABASE_URL": config.database_url,
            "PUBLIC_BASE_URL": self.url,
            "ADMIN_API_KEY": ADMIN_KEY,
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_FROM_NUMBER": TWILIO_FROM,
            "TWILIO_API_BASE_URL": config.twilio_api_base_url,
            "OUTBOX_POLL_SECONDS": OUTBOX_POLL_S,
            "WARM_NLU_AT_START": "true",
            "RUN_BACKGROUND_WORKER": "true",
            "RETENTION_IN_SERVER": "false",
            "DEMO_CHAT": "false",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        })
        if config.telegram_api_base_url is not None:
            env.update({"TELEGRAM_BOT_TOKEN": BOT_TOKEN,
                        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
                        "TELEGRAM_API_BASE_URL": config.telegram_api_base_url})
        if config.nlu_cache_dir is not None:
            env["NLU_CACHE_DIR"] = str(config.nlu_cache_dir)
        env.update(config.extra_env)
        return env

    def settings(self) -> Settings:
        """The server's settings, built from its environment: a ledger made from
        ``settings().ledger`` has the same database and CPR keys as the server."""
        values = {name: value for name, value in self.env.items()
                  if name in Settings.model_fields}
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]  # environment strings, parsed by pydantic

    # Life cycle -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def migrate(self) -> None:
        """`frikort db upgrade` with the same environment."""
        done = subprocess.run([str(FRIKORT), "db", "upgrade"], env=self.env, cwd=self.workdir,
                              capture_output=True, timeout=180, check=False)
        if done.returncode != 0:
            raise ServerFailed("frikort db upgrade failed:\n"
                               + done.stdout.decode(errors="replace")[-2000:]
                               + done.stderr.decode(errors="replace")[-4000:])

    def start(self, timeout_s: float = 60.0) -> None:
        """Spawns the server and waits until GET /healthz answers 200 and every worker has
        finished its start-up (so a test's load meets all N workers, not the first one up)."""
        if self.running:
            raise ServerFailed("the server is already running")
        self._close_log()
        self._log = self.log_path.open("ab")
        self._log.write(f"\n===== start {self.starts + 1} =====\n".encode())
        self._log.flush()
        command = [str(FRIKORT), "serve", "--host", LOOPBACK, "--port", str(self.port),
                   "--workers", str(self.config.workers)]
        self._process = subprocess.Popen(command, env=self.env, cwd=self.workdir,
                                         stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while True:
                if self._process.poll() is not None:
                    raise ServerFailed(f"the server exited with {self._process.returncode}"
                                       f" at start\n{self.log_tail()}")
                try:
                    healthy = client.get("/healthz").status_code == 200
                except httpx.TransportError:
                    healthy = False
                if healthy and self.workers_started() >= self.config.workers:
                    return
                if time.monotonic() > deadline:
                    self.kill()
                    raise ServerFailed(f"no 200 from /healthz within {timeout_s}s\n"
                                       f"{self.log_tail()}")
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole process group (every worker at once); waits until it is gone."""
        process = self._process
        if process is None:
            return
        group = process.pid  # start_new_session: the group id is the leader's pid
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)
        self._wait_group_gone(group, timeout_s=30.0)
        self._process = None
        self._close_log()

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM, graceful: uvicorn lets requests finish and runs the app's shutdown; a
        server that does not stop within ``timeout_s`` is killed (and ServerFailed raised)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServerFailed(f"the server ignored SIGTERM for {timeout_s}s\n"
                                   f"{self.log_tail()}") from None
        self._wait_group_gone(process.pid, timeout_s=timeout_s)
        self._process = None
        self._close_log()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        """Stops whatever is still running; kills it if a graceful stop fails."""
        if self._process is None:
            return
        try:
            self.stop(timeout_s=15.0)
        except ServerFailed:
            if kind is None:
                raise
        finally:
            self.kill()

    # Diagnostics ----------------------------------------------------------------------------

    def log_text(self) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def workers_started(self) -> int:
        """Workers that finished their start-up since the latest start."""
        current = self.log_text().rpartition(f"===== start {self.starts} =====")[2]
        return current.count("Application startup complete.")

    def worker_restarts(self) -> int:
        """How often uvicorn's supervisor replaced a worker it found dead or unresponsive
        (its health check gives a starting worker 5 seconds to answer)."""
        return len(re.findall(r"Child process \[\d+\] died", self.log_text()))

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_text()[-chars:]

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _wait_group_gone(group: int, *, timeout_s: float) -> None:
        """Until no live (non-zombie) process is left in the group: a SIGKILLed worker may be
        reaped by init a moment after its parent, and must not hold the port or the database."""
        deadline = time.monotonic() + timeout_s
        while _live_members(group):
            if time.monotonic() > deadline:
                raise ServerFailed(f"process group {group} still alive after {timeout_s}s")
            time.sleep(0.05)


def _live_members(group: int) -> list[int]:
    """Pids in process group ``group`` that are not zombies (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may contain spaces, so split after the ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == group and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found
