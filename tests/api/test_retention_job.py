"""The daily retention job also forgets failed console logins that no longer lock anything."""

from __future__ import annotations

import pytest

from api.retention_job import run_retention_once
from api.settings import Settings
from staff.errors import LoginFailed
from tests.ledger.support import FakeClock, fast_ledger
from tests.ledger.test_staff_throttle_prune import CHEAP, throttle_keys


def test_the_retention_job_prunes_expired_login_counters(db_url: str) -> None:
    clock = FakeClock()
    ledger = fast_ledger(db_url, clock, staff=CHEAP)
    settings = Settings(_env_file=None, DATABASE_URL=db_url,
                        RUN_BACKGROUND_WORKER=False, RETENTION_DAYS=365)
    try:
        with pytest.raises(LoginFailed):
            ledger.staff.authenticate("gammel", "forkert-kodeord", "10.1.1.1")
        clock.advance(minutes=20)
        with pytest.raises(LoginFailed):
            ledger.staff.authenticate("ny", "forkert-kodeord", "10.2.2.2")
        run_retention_once(ledger, settings)
        assert throttle_keys(db_url) == {"user:ny", "addr:10.2.2.2"}
        clock.advance(minutes=20)
        run_retention_once(ledger, settings)
        assert throttle_keys(db_url) == set()
    finally:
        ledger.close()
