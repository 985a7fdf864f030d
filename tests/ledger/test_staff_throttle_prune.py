"""Failed-login counters are forgotten once their lock and window are over (both databases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from api.bootstrap import Backend
from db.config import StaffConfig
from staff.errors import LoginFailed, LoginLocked
from tests.ledger.support import FakeClock, dump_tables, fast_ledger, raw_engine

CHEAP = StaffConfig(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
PASSWORD = "korrekt-hest-batteri"


def throttle_keys(url: str) -> set[str]:
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(sa.text("SELECT key FROM login_throttle")))
    finally:
        engine.dispose()


def fail(ledger: Backend, username: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises((LoginFailed, LoginLocked)):
            ledger.staff.authenticate(username, "forkert-kodeord", address)


@pytest.fixture
def staff(db_url: str) -> Iterator[tuple[Backend, FakeClock, str]]:
    clock = FakeClock()
    ledger = fast_ledger(db_url, clock, staff=CHEAP)
    ledger.staff.add_user("anna", PASSWORD, "caseworker", "751", "Anna")
    try:
        yield ledger, clock, db_url
    finally:
        ledger.close()


def test_prune_keeps_live_locks_and_windows_and_forgets_the_rest(
    staff: tuple[Backend, FakeClock, str],
) -> None:
    ledger, clock, url = staff
    fail(ledger, "anna", "10.0.0.1", times=5)  # the account is locked for 15 minutes
    fail(ledger, "ghost", "10.0.0.2")
    everything = {"user:anna", "addr:10.0.0.1", "user:ghost", "addr:10.0.0.2"}
    assert throttle_keys(url) == everything

    clock.advance(minutes=10)
    fail(ledger, "bent", "10.0.0.3")
    assert ledger.staff.prune_login_throttle() == 0
    assert throttle_keys(url) == everything | {"user:bent", "addr:10.0.0.3"}
    with pytest.raises(LoginLocked):  # pruning never lifts a lock in force
        ledger.staff.authenticate("anna", PASSWORD, "10.0.0.9")

    clock.advance(minutes=5, seconds=1)  # anna's lock and the first window are over
    before = dump_tables(url)
    assert ledger.staff.prune_login_throttle(dry_run=True) == 4
    assert dump_tables(url) == before, "a dry run changed something"
    assert ledger.staff.prune_login_throttle() == 4
    assert throttle_keys(url) == {"user:bent", "addr:10.0.0.3"}
    assert ledger.staff.prune_login_throttle() == 0

    # Bent's window still counts: his failures go on from where they were.
    fail(ledger, "bent", "10.0.0.3", times=4)
    with pytest.raises(LoginLocked):
        ledger.staff.authenticate("bent", PASSWORD, "10.0.0.3")
    # A pruned key starts afresh, as it would have anyway.
    assert ledger.staff.authenticate("anna", PASSWORD, "10.0.0.1").username == "anna"
