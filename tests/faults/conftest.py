"""Fixtures for the fault tests: a database of their own, a fake Twilio, a trained NLU model.

Every test here runs the real server as a subprocess (tests/faults/server.py) and is marked
``slow``. A PostgreSQL test gets a whole database of its own on the shared server
(``frikort_fault_<random>``, dropped afterwards), not a schema: the server under test opens its
own connections from DATABASE_URL. The server is never stopped or restarted by these tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.api.channel_fixtures import nlu_cache_dir, shared_parser  # noqa: F401 (fixture)
from tests.conftest import POSTGRES_ADMIN_URL
from tests.fakes.http_server import RunningServer
from tests.fakes.twilio_api import FakeTwilio
from tests.faults.server import fake_twilio

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test under tests/faults ``slow``."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def trained_nlu(nlu_cache_dir: Path) -> Path:  # noqa: F811 (the imported fixture)
    """The model trained (or found) in the cache once, so every server start only loads it."""
    shared_parser(nlu_cache_dir)
    return nlu_cache_dir


@pytest.fixture
def twilio_fake() -> Iterator[tuple[FakeTwilio, RunningServer]]:
    """A fake Twilio of this test's own: its log holds only what this test's server sent."""
    with fake_twilio() as running:
        yield running


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fault.db'}"


@pytest.fixture
def postgres_database(postgres_available: bool) -> Iterator[str]:
    """A fresh database ``frikort_fault_<random>`` on the shared server, dropped afterwards."""
    if not postgres_available:
        pytest.skip("PostgreSQL not reachable (this is a failure when CI is set)")
    name = f"frikort_fault_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fault_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on a SQLite file and once on a PostgreSQL database of its own."""
    if request.param == "sqlite":
        return _sqlite(tmp_path)
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def sqlite_fault_db(tmp_path: Path) -> str:
    return _sqlite(tmp_path)
