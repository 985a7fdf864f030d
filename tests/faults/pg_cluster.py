"""A private PostgreSQL cluster for fault tests: one that may be crashed and restarted.

The shared server at 127.0.0.1:5432 must never be stopped (other tests use it), so a fault
test that takes the database away runs its own cluster: `initdb` into a temporary directory
as the `postgres` OS user, trust authentication, listening on 127.0.0.1 at a free port only,
its unix socket inside the temporary directory. It keeps its port across restarts, so a
server pointed at `url` finds it again. `stop(mode="immediate")` is a crash-like stop: the
postmaster kills its backends without a checkpoint, and the next start runs crash recovery.

Missing binaries skip the test, except under CI=true, where they fail it (like the `postgres`
marker's fixtures in tests/conftest.py).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
import sqlalchemy as sa

from tests.conftest import IN_CI
from tests.fakes.http_server import free_port

StopMode = Literal["smart", "fast", "immediate"]
OS_USER = "postgres"
START_TIMEOUT_S = 30.0


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (or no OS user to run them as)."""


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres: `pg_config --bindir`, else the
    newest /usr/lib/postgresql/<version>/bin."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            candidates.append(Path(out))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                      else 0, reverse=True)
    candidates.extend(Path(p) for p in versions)
    for bindir in candidates:
        if all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise ClusterUnavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found")


class PgCluster:
    """One throw-away cluster. Use as a context manager, or call `close()`; it is also
    stopped and removed when the interpreter exits, so a failed test leaves no postmaster."""

    def __init__(self, *, bindir: Path | None = None, port: int | None = None) -> None:
        self.bindir = bindir or find_bindir()
        # Below the ephemeral range: the cluster is stopped and started again on this port
        # while the parallel tests bind port 0 for their fake providers (tests/fakes).
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="frikort-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.logfile = self.root / "postgres.log"
        self._as_other_user = os.geteuid() == 0  # PostgreSQL refuses to run as root
        self._closed = False
        atexit.register(self.close)
        self._prepare()

    # --- set-up -------------------------------------------------------------------------

    def _prepare(self) -> None:
        self.socket_dir.mkdir()
        self.logfile.touch()
        if self._as_other_user:
            try:
                import pwd

                entry = pwd.getpwnam(OS_USER)
            except KeyError as exc:
                raise ClusterUnavailable(f"no OS user {OS_USER!r} to run PostgreSQL as") from exc
            for path in (self.root, self.socket_dir, self.logfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], timeout=120)
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# frikort fault tests: loopback only, fast, throw-away\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                # fsync off is safe here: only PostgreSQL is killed, never the machine, so
                # what reached the OS survives. synchronous_commit stays on: with it off an
                # acknowledged commit still in PostgreSQL's WAL buffers dies with the crash.
                "fsync = off\nfull_page_writes = off\n"
                "max_connections = 200\nshared_buffers = 32MB\n"
                "log_min_messages = warning\nlog_connections = off\n")

    def _command(self, args: list[str]) -> list[str]:
        if self._as_other_user:
            return ["runuser", "-u", OS_USER, "--", *args]
        return args

    def _run(self, args: list[str], *, timeout: float = 60.0,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self._command(args), capture_output=True, text=True,
                                timeout=timeout, cwd=self.root)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}): "
                               f"{result.stderr.strip() or result.stdout.strip()}\n"
                               f"{self.log_tail()}")
        return result

    # --- the cluster's life -------------------------------------------------------------

    @property
    def url(self) -> str:
        """A SQLAlchemy URL for the `postgres` database over TCP (what the app is given)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Starts the postmaster and returns once it accepts connections."""
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
                   "-w", "-t", str(int(timeout)), "start"], timeout=timeout + 10)
        self.wait_ready(timeout)

    def stop(self, mode: StopMode = "immediate") -> None:
        """`immediate` is the crash-like stop: no checkpoint, backends killed at once."""
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                   "stop"], timeout=60)

    def is_running(self) -> bool:
        result = self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"],
                           check=False, timeout=30)
        return result.returncode == 0

    def accepts_connections(self) -> bool:
        """One real query over TCP, as the app would connect."""
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool,
                                  connect_args={"connect_timeout": 2})
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.DBAPIError:
            return False
        finally:
            engine.dispose()

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Until a query over TCP succeeds (crash recovery may still run after pg_ctl's -w)."""
        deadline = time.monotonic() + timeout
        while not self.accepts_connections():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the private PostgreSQL did not get ready within "
                                   f"{timeout}s\n{self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.logfile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        """Stops the cluster if it runs and removes its directory; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            if self.is_running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.close)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@contextlib.contextmanager
def private_cluster() -> Iterator[PgCluster]:
    """A started private cluster for one test; skips without the binaries unless CI is set."""
    try:
        cluster = PgCluster()
    except ClusterUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI is set but a private PostgreSQL cannot be made: {exc}")
        pytest.skip(f"{exc} (this is a failure when CI is set)")
    with cluster:
        cluster.start()
        yield cluster
