"""Shared fixtures: a fresh SQLite file or a fresh PostgreSQL database per test (copies of one
template, tests/databases.py), never the developer's data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import databases, nlu_models, profiles
from tests.databases import POSTGRES_ADMIN_URL

profiles.load()

# An app a test builds does not load the NLU models in the background at start-up (most tests
# never parse a message; those that do pass the suite's shared parser), and one that loads its
# own finds them in the suite's one model cache instead of training them again in
# var/nlu-cache: on a fresh clone every REST test's app used to start a training thread of
# about 20 CPU seconds. A test about warming up asks for it (WARM_NLU_AT_START=True).
os.environ["WARM_NLU_AT_START"] = "false"
os.environ["NLU_CACHE_DIR"] = str(nlu_models.CACHE_DIR)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_CLIENT_HOST = "testserver"
"""The Host Starlette's TestClient sends: tests that use one allow it (ALLOWED_HOSTS), as a
deployment allows the name its load balancer uses."""


def _postgres_available() -> bool:
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    available = _postgres_available()
    if not available and IN_CI:
        pytest.fail(f"CI is set but PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
    return available


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'frikort.db'}"


@pytest.fixture
def postgres_url(postgres_available: bool) -> Iterator[str]:
    """A database of its own on the shared server, already migrated: a copy of this process's
    template (tests/databases.py), dropped afterwards."""
    if not postgres_available:
        pytest.skip("PostgreSQL not reachable (this is a failure when CI is set)")
    url = databases.postgres_copy()
    yield url
    databases.release(url)


@pytest.fixture
def postgres_demo_url(postgres_available: bool) -> Iterator[str]:
    """`postgres_url` holding the demo data too, seeded at DEMO_NOW (a copy of the seeded
    template): for `make_chat` and `running_channels` at their default clock."""
    if not postgres_available:
        pytest.skip("PostgreSQL not reachable (this is a failure when CI is set)")
    url = databases.postgres_copy(databases.seeded(databases.DEMO_NOW))
    yield url
    databases.release(url)


@pytest.fixture
def postgres_empty_url(postgres_available: bool) -> Iterator[str]:
    """An empty schema of its own on the shared server (for tests of the migrations
    themselves), dropped afterwards."""
    if not postgres_available:
        pytest.skip("PostgreSQL not reachable (this is a failure when CI is set)")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_ADMIN_URL else "?"
    yield f"{POSTGRES_ADMIN_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL. The SQLite file does not exist yet
    (`prepare_database` copies the migrated template there); the PostgreSQL database is
    migrated already."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo_db_url(request: pytest.FixtureRequest) -> str:
    """`db_url` for a demo-seeded ledger at DEMO_NOW (`make_chat`, `running_channels`)."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_demo_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest) -> str:
    """`db_url` for tests of the migrations: nothing migrated on either database."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_empty_url"
    return str(request.getfixturevalue(name))


def pytest_configure(config: pytest.Config) -> None:
    """The log scan: every log record of the session is checked for CPR numbers, personal
    phone numbers and secrets, and any finding fails the run (see tests/log_scan.py)."""
    from tests.log_scan import install

    install(config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drops this process's PostgreSQL test databases and templates."""
    databases.finish()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow tests (the fault tests: a minute or more of real waiting each) go first, so
    that under pytest-xdist they run alongside the rest instead of ending the run alone. The
    rest keep their order (the log scan's last test stays last)."""
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        items[:] = slow + [item for item in items if item.get_closest_marker("slow") is None]
