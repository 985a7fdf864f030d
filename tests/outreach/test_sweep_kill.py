"""A real kill: `frikort outreach run` is SIGKILLed part-way through a national-style
new-year message (SQLite; 300 card holders, six batches), then run again. Wherever the kill
landed, every card holder gets the message exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from ledger import IssueCard
from tests.ledger.casework_support import World, make_world
from tests.ledger.support import ADMIN, fresh_cpr, world_fixture
from tests.outreach.support import only, set_cap

FRIKORT = Path(sys.executable).parent / "frikort"
HOLDERS = 300
AT = "2025-06-16T14:00"
"""The world's clock, in Danish time: inside the allowed hours."""


kill_world = world_fixture(make_world, on="sqlite_url")


def _run(world: World, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": world.url, "ENVIRONMENT": "development",
           "HOME": str(tmp_path), "LOG_LEVEL": "WARNING"}
    return subprocess.Popen([str(FRIKORT), "outreach", "run", "--at", AT], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


@pytest.mark.skipif(not FRIKORT.exists(), reason="the frikort entry point is not installed")
def test_sigkill_mid_sweep_then_a_rerun_sends_each_once(kill_world: World, tmp_path: Path
                                                         ) -> None:
    world = kill_world
    only(world, "new_year")
    for n in range(HOLDERS):
        world.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name=f"Holder {n}",
                                          municipality_code="751", valid_from=dt.date(2025, 1, 1),
                                          phone=f"+4540{123000 + n}"), actor=ADMIN)
    set_cap(world, 2026, 43_000)
    first = _run(world, tmp_path)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and first.poll() is None \
            and len(world.rows("outreach_messages")) < 50:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    before = len(world.rows("outreach_messages"))
    assert 50 <= before < HOLDERS + 2, f"{before} keys: the kill was not mid-sweep"
    second = _run(world, tmp_path)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    per_recipient = Counter(r["recipient"] for r in world.rows("outbox"))
    assert len(per_recipient) == HOLDERS + 2 and set(per_recipient.values()) == {1}
    keys = Counter((r["rule"], r["person_key"], r["occasion"])
                   for r in world.rows("outreach_messages"))
    assert len(keys) == HOLDERS + 2 and set(keys.values()) == {1}
    assert len(world.audit("outreach.sent")) == HOLDERS + 2
    assert f"queued {HOLDERS + 2 - before} messages" in out
