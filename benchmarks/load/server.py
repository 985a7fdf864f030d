"""The real server as production runs it: `frikort serve --workers N` in its own process.

Its settings come only from the environment built here (the parent's DATABASE_URL or a
developer's .env cannot leak in: the server runs in a scratch directory with a minimal
environment). ENVIRONMENT=production, so logging is JSON at INFO, the demo chat is off and
/metrics needs a token, as in a deployment; every secret is fresh for the run.
PostgreSQL: the database `frikort_load` (never `test`, which the test suite uses) is dropped
and created again for every run. SQLite: a file in the scratch directory.
"""

from __future__ import annotations

import base64
import copy
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from benchmarks.load.wire import ProviderSecrets

__all__ = ["DEFAULT_POSTGRES_URL", "BenchServer", "ServerOptions", "free_port",
           "postgres_backend_pids"]

DEFAULT_POSTGRES_URL = os.environ.get(
    "LOAD_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/frikort_load")
START_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(
    process: subprocess.Popen[bytes], name: str, log_path: Path, timeout_s: float,
    is_ready: Callable[[httpx.Client], bool], *, poll_s: float = 0.2,
) -> None:
    """Polls `is_ready` until it is true; fails at once if the process exits, or at the
    deadline, naming the log to read."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=5.0) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}); see {log_path}")
            try:
                if is_ready(client):
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not get ready; see {log_path}")
            time.sleep(poll_s)


def _frikort() -> str:
    beside = Path(sys.executable).with_name("frikort")
    found = str(beside) if beside.exists() else shutil.which("frikort")
    if not found:
        raise RuntimeError("the `frikort` command is not installed (pip install -e .)")
    return found


def _admin_conninfo(url: str) -> tuple[str, str]:
    """(libpq conninfo of the maintenance database `postgres`, the bench database's name)."""
    parsed = make_url(url)
    name = parsed.database or ""
    if not name.startswith("frikort_load"):
        raise ValueError(f"refusing to drop database {name!r}: its name must start with "
                         "frikort_load (the test suite's database is `test`)")
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), name


def postgres_backend_pids(url: str) -> list[int]:
    """Server processes of every connection to the bench database, for their CPU time."""
    conninfo, name = _admin_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                            "pg_backend_pid()", (name,)).fetchall()
    return [int(row[0]) for row in rows]


def postgres_version(url: str) -> str:
    conninfo, _ = _admin_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


@dataclass(frozen=True)
class ServerOptions:
    db: Literal["postgres", "sqlite"]
    workers: int
    workdir: Path
    nlu_cache_dir: Path
    postgres_url: str = DEFAULT_POSTGRES_URL
    rate_limit_per_minute: int = 20
    log_level: str = "INFO"


class BenchServer:
    """Creates the database, migrates it, and starts and stops the server process."""

    def __init__(self, options: ServerOptions, provider: ProviderSecrets,
                 providers_url: str) -> None:
        self.options = options
        self.instance = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_token = secrets.token_urlsafe(32)
        self.log_path = options.workdir / f"server-{options.db}.log"
        self._process: subprocess.Popen[bytes] | None = None
        if options.db == "postgres":
            self.database_url = options.postgres_url
        else:
            self.database_url = f"sqlite:///{options.workdir / 'frikort-load.db'}"
        key = lambda: base64.b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
        self.settings_env = {
            "ENVIRONMENT": "production",
            "DATABASE_URL": self.database_url,
            "PUBLIC_BASE_URL": self.url,
            "ADMIN_API_KEY": secrets.token_urlsafe(32),
            "CPR_ENCRYPTION_KEY": key(),
            "CPR_HASH_KEY": key(),
            "SESSION_SECRET": key(),
            "METRICS_TOKEN": self.metrics_token,
            "TWILIO_ACCOUNT_SID": provider.twilio_sid,
            "TWILIO_AUTH_TOKEN": provider.twilio_token,
            "TWILIO_FROM_NUMBER": provider.twilio_number,
            "TWILIO_API_BASE_URL": providers_url,
            "TELEGRAM_BOT_TOKEN": provider.bot_token,
            "TELEGRAM_WEBHOOK_SECRET": provider.telegram_secret,
            "TELEGRAM_API_BASE_URL": providers_url,
            "NLU_BACKEND": "embedded",
            "NLU_CACHE_DIR": str(options.nlu_cache_dir.resolve()),
            "SENDER_RATE_LIMIT_PER_MINUTE": str(options.rate_limit_per_minute),
            "LOG_LEVEL": options.log_level,
        }

    def twin(self, instance: int) -> BenchServer:
        """Another instance of the same deployment, as on another machine behind the load
        balancer: its own process, port, log and metrics folder; the same database, secrets
        and public URL (the balancer's name, which Twilio signs)."""
        twin = copy.copy(self)
        twin.instance = instance
        twin.port = free_port()
        twin.url = f"http://127.0.0.1:{twin.port}"
        twin.log_path = self.options.workdir / f"server-{self.options.db}-{instance}.log"
        twin.settings_env = dict(self.settings_env)
        twin._process = None
        return twin

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _env(self) -> dict[str, str]:
        # PYTHONPATH too: a checkout run with another checkout's virtualenv (an editable
        # install points there) must serve its own code, as the harness itself imports it.
        env = {k: v for k, v in os.environ.items()
               if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")}
        env.update(self.settings_env)
        if self.options.workers > 1:
            metrics_dir = self.options.workdir / f"prometheus-{self.options.db}-{self.instance}"
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        return env

    def create_database(self) -> None:
        """A fresh, migrated database (`frikort db upgrade`, as an operator would run it)."""
        if self.options.db == "postgres":
            conninfo, name = _admin_conninfo(self.database_url)
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            Path(self.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        done = subprocess.run([_frikort(), "db", "upgrade"], env=self._env(),
                              cwd=self.options.workdir, capture_output=True, text=True,
                              timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"`frikort db upgrade` failed:\n{done.stderr[-2000:]}")

    def drop_database(self) -> None:
        if self.options.db == "postgres":
            conninfo, name = _admin_conninfo(self.database_url)
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)))

    def start(self) -> None:
        command = [_frikort(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(self.options.workers)]
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(command, env=self._env(), cwd=self.options.workdir,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        log.close()
        wait_until_ready(self._process, "the server", self.log_path, START_TIMEOUT_S,
                         lambda client: client.get(f"{self.url}/healthz").status_code == 200)

    def metrics(self) -> str:
        """The /metrics text (every worker's counters when PROMETHEUS_MULTIPROC_DIR is set)."""
        response = httpx.get(f"{self.url}/metrics", timeout=10.0,
                             headers={"Authorization": f"Bearer {self.metrics_token}"})
        response.raise_for_status()
        return response.text

    def stop(self) -> None:
        """SIGTERM to uvicorn's supervisor (it stops its workers), SIGKILL to our own process
        group if that takes longer than 20 s."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def counter_total(metrics_text: str, name: str) -> float:
    """The sum of every sample of one counter in Prometheus text format."""
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith(name) and line[len(name):len(name) + 1] in ("{", " "):
            total += float(line.rsplit(" ", 1)[1])
    return total
