"""The pool pings only connections that sat idle (db/engine.py): a connection whose server
process died is replaced before use once it has been idle for PING_AFTER_IDLE_S, and one that
dies between two quick uses fails its statement as an outage (503 for a webhook) and takes the
pool's older connections with it, so the next checkout works."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from db.engine import PING_AFTER_IDLE_S, Engines, is_database_unavailable, make_engines
from tests import databases
from tests.ledger.support import make_config

pytestmark = pytest.mark.postgres
PID = sa.text("SELECT pg_backend_pid()")


@pytest.fixture
def engines() -> Iterator[Engines]:
    found = make_engines(make_config(databases.POSTGRES_ADMIN_URL))
    yield found
    found.dispose()


def _kill(pid: int) -> None:
    admin = sa.create_engine(databases.POSTGRES_ADMIN_URL, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    time.sleep(0.2)  # the backend exits


def _last_query(pid: int) -> str:
    """What the server process last ran: the checkout's ping talks to the driver directly,
    below SQLAlchemy's statement events, so it is seen from the server."""
    admin = sa.create_engine(databases.POSTGRES_ADMIN_URL, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        query = conn.execute(sa.text("SELECT query FROM pg_stat_activity WHERE pid = :pid"),
                             {"pid": pid}).scalar()
    admin.dispose()
    return str(query)


@pytest.mark.parametrize(("idle_s", "pinged"), [(0.0, False), (PING_AFTER_IDLE_S + 0.1, True)])
def test_only_a_connection_that_sat_idle_is_pinged(engines: Engines, idle_s: float,
                                                   pinged: bool) -> None:
    engine = engines.write
    with engine.connect() as conn:
        first = conn.execute(PID).scalar()
    time.sleep(idle_s)
    with engine.connect() as conn:
        assert (_last_query(first) == "SELECT 1") is pinged
        assert conn.execute(PID).scalar() == first


def test_a_dead_idle_connection_is_replaced_before_use(engines: Engines) -> None:
    engine = engines.write
    with engine.connect() as conn:
        dead = conn.execute(PID).scalar()
    _kill(dead)
    time.sleep(PING_AFTER_IDLE_S)
    with engine.connect() as conn:
        assert conn.execute(PID).scalar() != dead


def test_a_connection_that_died_between_quick_uses_is_an_outage_once(engines: Engines) -> None:
    engine = engines.write
    with engine.connect() as conn, engine.connect() as other:
        dead = conn.execute(PID).scalar()
        older = other.execute(PID).scalar()
    _kill(dead)
    _kill(older)
    with pytest.raises(sa.exc.DBAPIError) as raised, engine.connect() as conn:
        conn.execute(PID)
    assert is_database_unavailable(raised.value)
    # The failure invalidated every connection of the pool older than it, so no request
    # after it meets the other dead one.
    for _ in range(3):
        with engine.connect() as conn:
            assert conn.execute(PID).scalar() not in (dead, older)

