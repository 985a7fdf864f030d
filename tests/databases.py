"""The suite's one template-database mechanism: every test database is a copy of a template
that is built once per process (once per pytest-xdist worker), never migrated or seeded again.

    MIGRATED                the Alembic head schema with its reference data (`ledger.upgrade`)
    seeded(now, demo_cap)   MIGRATED plus the demo data (api/demo_seed.py) seeded at `now`
    built(builder)          MIGRATED plus what `builder(url)` writes; what it returns (ids,
                            numbers: the facts a test needs about its copy) is kept with the
                            template and given back by `facts_of`

SQLite: a template is a file in a temporary folder of this process; a test's database is a file
copy (milliseconds), made when the test's file does not exist yet (`materialise`).

PostgreSQL: a template is a database of this process on the shared server,
``frikort_<pid>_<token>_tpl<n>``; a test's database is ``CREATE DATABASE <name> TEMPLATE <tpl>``
(STRATEGY FILE_COPY), whose commits do not wait for the disk (synchronous_commit off). A copy
costs 50 ms on a quiet fast disk but up to half a second where each of its few hundred files
waits for its fsync, so the next copy of the template a test took is made in a background
thread while that test runs (a spare), and the next test of the module finds it ready. A
copy is dropped after its test in another background thread (DROP DATABASE waits for a
checkpoint), and every database of this
process, templates included, is dropped at the end of the session (`finish`). The names carry
the process id and a random token, so concurrent runs on the same server never meet.
"""

from __future__ import annotations

import atexit
import datetime as dt
import itertools
import logging
import os
import queue
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

__all__ = ["DEMO_NOW", "MIGRATED", "Template", "built", "copy_of", "drop_database", "facts_of",
           "finish", "materialise", "postgres_copy", "release", "seeded", "sqlite_copy"]

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SQLITE_PREFIX = "sqlite:///"


def drop_database(name: str) -> None:
    """Drops a database a test made on the PostgreSQL server of POSTGRES_ADMIN_URL, sessions
    still open on it included (a benchmark's server may not have closed them yet)."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
DEMO_NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
"""The FakeClock's start in the bot and channel tests (a Monday); the demo data is seeded then."""
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Template:
    """What a template holds: the migrated schema, plus the demo data seeded at `now`."""

    now: dt.datetime | None = None
    demo_cap: bool = True
    builder: Callable[[str], object] | None = None

    @property
    def parent(self) -> Template | None:
        return None if self.now is None and self.builder is None else MIGRATED

    def build(self, url: str) -> object:
        """Fills the database at `url`, which already holds the parent template (or nothing);
        returns the builder's facts (None for the migrated and seeded templates)."""
        if self.builder is not None:
            return self.builder(url)
        if self.now is None:
            from db.migrate import upgrade

            upgrade(url)
            return None
        from api.bootstrap import Backend
        from sampledata.demo import seed
        from tests.ledger.support import FakeClock, make_config

        ledger = Backend(make_config(url), clock=FakeClock(self.now))
        try:
            seed(ledger, ledger.tasks, self.now.date(), demo_cap=self.demo_cap)
        finally:
            ledger.close()
        return None


MIGRATED = Template()


def seeded(now: dt.datetime, demo_cap: bool = True) -> Template:
    return Template(now=now, demo_cap=demo_cap)


def built(builder: Callable[[str], object]) -> Template:
    """A template that `builder` fills once per process and backend (a world a whole module
    of tests shares, each test on a copy of its own)."""
    return Template(builder=builder)


# --- SQLite: file copies ---------------------------------------------------------------------

_sqlite_files: dict[Template, Path] = {}
_sqlite_facts: dict[Template, object] = {}
_folder: list[Path] = []


def _sqlite_template(template: Template) -> Path:
    if template not in _sqlite_files:
        if not _folder:
            _folder.append(Path(tempfile.mkdtemp(prefix="frikort-templates-")))
            atexit.register(shutil.rmtree, _folder[0], ignore_errors=True)
        parent = None if template.parent is None else _sqlite_template(template.parent)
        path = _folder[0] / f"template-{len(_sqlite_files)}.db"  # after the parent's
        if parent is not None:
            shutil.copyfile(parent, path)
        _sqlite_facts[template] = template.build(f"{SQLITE_PREFIX}{path}")
        _sqlite_files[template] = path
    return _sqlite_files[template]


def sqlite_copy(target: Path, template: Template = MIGRATED) -> str:
    """Copies the template to `target` (a new file) and returns its URL."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template(template), target)
    return f"{SQLITE_PREFIX}{target}"


# --- PostgreSQL: CREATE DATABASE ... TEMPLATE ----------------------------------------------------


class _Postgres:
    """The templates and copies of this process on one server."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.prefix = f"frikort_{os.getpid()}_{secrets.token_hex(3)}"
        self.templates: dict[Template, str] = {}
        self.copies: dict[str, Template] = {}
        """URL of each live copy -> the template it was copied from."""
        self.names = itertools.count(1)
        self.engine: sa.Engine | None = None
        self.drops: queue.Queue[str | None] = queue.Queue()
        self.dropper: threading.Thread | None = None
        self.failed_drops: list[str] = []
        self.server_version: int | None = None
        self.facts: dict[Template, object] = {}
        self.spares: dict[Template, Future[str]] = {}
        """The next copy of each template, made in the background (`copy`)."""
        self.spare_maker: ThreadPoolExecutor | None = None

    def admin(self) -> sa.Engine:
        if self.engine is None:
            self.engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT",
                                           poolclass=sa.pool.NullPool)
        return self.engine

    def url(self, name: str) -> str:
        return make_url(self.server).set(database=name).render_as_string(
            hide_password=False)

    def knows_strategy(self) -> bool:
        if self.server_version is None:
            with self.admin().connect() as conn:
                shown = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
            self.server_version = int(shown)
        return self.server_version >= 150000

    def create(self, name: str, template: str | None) -> None:
        # FILE_COPY copies the template's files instead of writing all 9 MB of them to the WAL
        # (PostgreSQL 15's default, WAL_LOG): 50 ms instead of 270 ms a copy, and a run of the
        # PostgreSQL tests about an eighth faster. Older servers know only the file copy.
        strategy = " STRATEGY FILE_COPY" if self.knows_strategy() else ""
        copy = f' TEMPLATE "{template}"{strategy}' if template else ""
        sql = f'CREATE DATABASE "{name}"{copy}'
        for attempt in range(20):
            try:
                with self.admin().connect() as conn:
                    conn.execute(sa.text(sql))
                    # Commits do not wait for the WAL flush: what a test sees is unchanged;
                    # only a crash of the server could lose the last commits (of a database
                    # that is dropped anyway). Not copied by TEMPLATE, so set on each.
                    conn.execute(sa.text(
                        f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
                return
            except OperationalError as exc:
                # "source database is being accessed by other users": a connection of the
                # template's build still closing. Anything else is a real failure.
                if "being accessed by other users" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.1)

    def template(self, template: Template) -> str:
        if template not in self.templates:
            parent = None if template.parent is None else self.template(template.parent)
            name = f"{self.prefix}_tpl{len(self.templates)}"
            self.create(name, parent)
            self.templates[template] = name  # dropped at the end even if the build fails
            self.facts[template] = template.build(self.url(name))
        return self.templates[template]

    def copy(self, template: Template) -> str:
        source = self.template(template)
        name = self.take_spare(template) or self.new_copy(source)
        if self.spare_maker is None:
            self.spare_maker = ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="spare-test-database")
        self.spares[template] = self.spare_maker.submit(self.new_copy, source)
        url = self.url(name)
        self.copies[url] = template
        return url

    def take_spare(self, template: Template) -> str | None:
        spare = self.spares.pop(template, None)
        if spare is None:
            return None
        try:
            return spare.result()
        except Exception as exc:  # noqa: BLE001  (made again in the foreground, failing loudly)
            _log.warning("could not make a spare copy of a test template: %s", exc)
            return None

    def new_copy(self, template_name: str) -> str:
        name = f"{self.prefix}_{next(self.names)}"  # next() on a count is atomic in CPython
        self.create(name, template_name)
        return name

    def release(self, url: str) -> None:
        if self.copies.pop(url, None) is None:
            return
        if self.dropper is None:
            self.dropper = threading.Thread(target=self._drop_loop, name="drop-test-databases",
                                            daemon=True)
            self.dropper.start()
        self.drops.put(str(make_url(url).database))

    def _drop_loop(self) -> None:
        while (name := self.drops.get()) is not None:
            self.drop(name)

    def drop(self, name: str) -> None:
        try:
            with self.admin().connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception as exc:  # noqa: BLE001  (reported at the end, never hides a test result)
            _log.warning("could not drop test database %s: %s", name, exc)
            self.failed_drops.append(name)

    def finish(self) -> None:
        spares = [spare.result() for spare in self.spares.values() if spare.exception() is None]
        self.spares.clear()
        if self.spare_maker is not None:
            self.spare_maker.shutdown()
            self.spare_maker = None
        if self.dropper is not None:
            self.drops.put(None)
            self.dropper.join()
            self.dropper = None
        leftovers = spares + [str(make_url(url).database) for url in self.copies]
        leftovers += self.failed_drops + list(self.templates.values())[::-1]
        self.copies.clear()
        self.failed_drops = []
        self.templates.clear()
        for name in leftovers:
            self.drop(name)
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None


_servers: dict[str, _Postgres] = {}


def postgres_copy(template: Template = MIGRATED, server: str = POSTGRES_ADMIN_URL) -> str:
    """A new database on the server (the shared test server unless another admin URL is
    given) holding `template`; give it back with `release`."""
    if server not in _servers:
        _servers[server] = _Postgres(server)
    return _servers[server].copy(template)


def copy_of(template: Template, backend: str, folder: Path) -> tuple[str, object]:
    """A database of its own holding `template` on `backend` ("sqlite": a file in `folder`;
    "postgres": give it back with `release`), and the facts its builder returned."""
    if backend == "postgres":
        return postgres_copy(template), facts_of(template, postgres=True)
    url = sqlite_copy(folder / f"copy-{next(_sqlite_copies)}.db", template)
    return url, facts_of(template, postgres=False)


_sqlite_copies = itertools.count(1)


def facts_of(template: Template, *, postgres: bool,
             server: str = POSTGRES_ADMIN_URL) -> object:
    """What the template's builder returned when it built the template this process copies
    from on that backend (after a `sqlite_copy` or `postgres_copy` of it)."""
    return _servers[server].facts[template] if postgres else _sqlite_facts[template]


def release(url: str) -> None:
    """Drops a database made by `postgres_copy` (in the background); other URLs are ignored."""
    for postgres in _servers.values():
        postgres.release(url)


def materialise(url: str, template: Template) -> bool:
    """Makes the database at `url` hold `template` when that costs only a copy: a SQLite file
    that does not exist yet is copied from it; a PostgreSQL database made by `postgres_copy`
    from it holds it already. False when the caller must migrate (and seed) itself."""
    if url.startswith(SQLITE_PREFIX) and url != "sqlite:///:memory:":
        target = Path(url[len(SQLITE_PREFIX):])
        if target.exists():
            return False
        sqlite_copy(target, template)
        return True
    copied = next((p.copies[url] for p in _servers.values() if url in p.copies), None)
    return copied == template or (copied is not None and template == MIGRATED)


def finish() -> None:
    """Drops every PostgreSQL database of this process (the session's end)."""
    for postgres in _servers.values():
        postgres.finish()


atexit.register(finish)
