"""Shared fixtures: a fresh SQLite file or a fresh PostgreSQL schema per test, never the developer's data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
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
    """A schema of its own on the shared server, dropped afterwards."""
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
    """Runs the test once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


def pytest_configure(config: pytest.Config) -> None:
    """The log scan: every log record of the session is checked for CPR numbers, personal
    phone numbers and secrets, and any finding fails the run (see tests/log_scan.py)."""
    from tests.log_scan import install

    install(config)
