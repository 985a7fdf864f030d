"""The server SIGKILLed in the middle of load and restarted (issue 7, faults).

`frikort serve --workers 2` runs as a real subprocess against a fake Twilio on loopback. Employers
report wages over SMS (report, then JA, which posts it and queues an SMS to the card holder) and
card holders ask for their balance, while the whole process group is killed with SIGKILL when
the fractions ``KILL_AT`` of the messages have been answered (points of the load, not times,
so a slow machine does not move them), and started again at once. The traffic driver posts
every message Twilio did not get a 200 for again with the same MessageSid, as Twilio does,
until it is answered.

Afterwards: every message that got a 200 is stored exactly once and was answered with what is
stored for it; no report is posted twice (one posted report per confirmed report message, with
the reported amount); balances equal the sum of their entries; every outbox message is sent and
the fake received each exactly once. The one exception is a message whose provider call was in
flight when the server died (leased, not yet marked sent): without idempotency at the provider
it is sent again once its lease runs out, so it may arrive twice. Those are identified from the
database right after each kill and counted; any other duplicate fails.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from api.bootstrap import Backend
from conversations.outbox import CLAIM_LEASE_S
from conversations.records import OutboxView
from tests.fakes.http_server import RunningServer
from tests.fakes.twilio_api import FakeTwilio
from tests.faults.server import ServerConfig, ServerProcess
from tests.faults.traffic import (
    MessageRecord,
    Population,
    TrafficDriver,
    delivered,
    reports_by_status,
    scripts_for,
    seed_population,
    stored_inbound,
    wait_until_drained,
)

log = logging.getLogger(__name__)

WORKERS = 2
TRAFFIC_LIMIT_S = 150.0
"""New messages are started for at most this long: enough for every script to finish."""
RATE_PER_S = 15.0
KILL_AT = (0.25, 0.6)
"""The whole process group is SIGKILLed when these fractions of all messages are answered."""
EMPLOYERS, HOLDERS_PER_EMPLOYER, REPORTS_PER_EMPLOYER = 10, 2, 4
AMOUNT = re.compile(r"indberet \S+ timer (\d+) kr frikort (\d+)")


def test_sigkill_mid_load_loses_and_repeats_nothing(
    fault_db: str, twilio_fake: tuple[FakeTwilio, RunningServer], trained_nlu: Path,
    tmp_path: Path, record_property: pytest.RecordProperty,
) -> None:
    fake, fake_server = twilio_fake
    config = ServerConfig(database_url=fault_db, twilio_api_base_url=fake_server.url,
                          workers=WORKERS, nlu_cache_dir=trained_nlu)
    with ServerProcess(config, tmp_path / "server.log") as server:
        server.migrate()
        ledger = Backend(server.settings().ledger)
        try:
            population = seed_population(ledger, dt.datetime.now(dt.UTC).date(),
                                         employers=EMPLOYERS,
                                         holders_per_employer=HOLDERS_PER_EMPLOYER)
            server.start()
            scripts = scripts_for(population, reports_per_employer=REPORTS_PER_EMPLOYER)
            total = sum(len(script.bodies) for script in scripts)
            with TrafficDriver(server.url, scripts, rate_per_s=RATE_PER_S) as driver:
                driver.start(TRAFFIC_LIMIT_S)
                in_flight: set[int] = set()
                restarts: list[float] = []
                for fraction in KILL_AT:
                    driver.wait_answered(int(total * fraction), timeout_s=90.0)
                    server.kill()
                    in_flight |= _leased(ledger)
                    started = time.monotonic()
                    server.start()
                    restarts.append(time.monotonic() - started)
                driver.set_retry_deadline(time.monotonic() + 60.0)
                assert driver.join(timeout_s=TRAFFIC_LIMIT_S), "the traffic did not finish"
                records = driver.snapshot()
            assert len(records) == total, "not every script was played to its end"
            rows = wait_until_drained(ledger, timeout_s=CLAIM_LEASE_S + 45.0)
            _check_inbound(ledger, records)
            posted_ore = _check_reports(ledger, population, records)
            assert ledger.check_invariants() == [], "balances disagree with their entries"
            for card, ore in posted_ore.items():
                assert ledger.balance(card, population.year).posted_ore == ore
            repeated = _check_outbox(rows, delivered(fake), in_flight, population)
        finally:
            ledger.close()
        restarted_workers = server.worker_restarts()
    retried = sum(1 for r in records if len(r.attempts) > 1)
    record_property("messages", len(records))
    record_property("messages_retried", retried)
    record_property("in_flight_at_kills", len(in_flight))
    record_property("in_flight_delivered_twice", repeated)
    record_property("restart_seconds", restarts)
    record_property("worker_restarts", restarted_workers)
    log.info("sigkill: %d messages, %d retried after a kill, %d outbox messages in flight at "
             "the kills, %d of them delivered twice; restarts took %s s", len(records), retried,
             len(in_flight), repeated, [round(s, 1) for s in restarts])
    assert retried > 0, "no message was caught by a kill: the test did not test anything"
    assert restarted_workers == 0, "uvicorn replaced a worker that was still starting"


def _leased(ledger: Backend) -> set[int]:
    """Right after a kill: outbox messages a (now dead) worker had claimed and not marked sent.
    The provider never fails in this test, so a pending message with an attempt is leased."""
    return {row.id for row in ledger.conversations.outbox_messages("pending", limit=100_000)
            if row.attempts >= 1}


def _check_inbound(ledger: Backend, records: list[MessageRecord]) -> None:
    """Every message answered (after retries), stored once, with the replies it was given."""
    unanswered = [(r.body, [a.status or a.error for a in r.attempts]) for r in records
                  if not r.acknowledged]
    assert not unanswered, f"messages never answered 200: {unanswered[:5]}"
    stored = stored_inbound(ledger)
    sent = {r.sid for r in records}
    assert set(stored) == sent, "stored inbound messages differ from the messages sent"
    for record in records:
        found = stored[record.sid]
        assert found.rows == 1 and found.processed, (record.body, found)
        assert found.replies == tuple(record.replies or ()), (
            f"{record.body!r} was answered {record.replies} but {found.replies} is stored")


def _check_reports(ledger: Backend, population: Population,
                   records: list[MessageRecord]) -> dict[str, int]:
    """One posted report per confirmed report message, with its amount; the rest pending.
    Returns the posted øre per card."""
    confirmed: dict[str, tuple[str, int]] = {}
    unconfirmed: set[str] = set()
    employers = {e.phone for e in population.employers}
    for phone in employers:
        mine = [r for r in records if r.sender == phone]
        for index, record in enumerate(mine):
            found = AMOUNT.fullmatch(record.body)
            if found is None:
                continue
            assert (record.replies or [""])[0].startswith("Du indberetter"), record.replies
            answer = mine[index + 1] if index + 1 < len(mine) else None
            if answer is None:
                unconfirmed.add(record.sid)
                continue
            assert answer.body == "ja" and (answer.replies or [""])[0].startswith("Tak!"), (
                answer.body, answer.replies)
            confirmed[record.sid] = (found.group(2), int(found.group(1)) * 100)
    by_status = reports_by_status(ledger)
    posted = by_status.get("posted", [])
    twice = [s for s, n in Counter(p.source_message_id for p in posted).items() if n > 1]
    assert not twice, f"reports posted twice for one message: {twice}"
    assert {p.source_message_id for p in posted} == set(confirmed)
    for report in posted:
        assert (report.card_number, report.amount_ore) == confirmed[str(report.source_message_id)]
    assert {p.source_message_id for p in by_status.get("pending", [])} == unconfirmed
    assert set(by_status) <= {"posted", "pending"}, sorted(by_status)
    totals: Counter[str] = Counter()
    for card, ore in confirmed.values():
        totals[card] += ore
    return dict(totals)


def _check_outbox(rows: list[OutboxView], received: list[tuple[str, str]], in_flight: set[int],
                  population: Population) -> int:
    """Every notification sent and received exactly once, except that a message in flight at
    a kill may have arrived twice. Returns how many did."""
    assert all(row.status == "sent" for row in rows), [(r.id, r.status) for r in rows]
    holders = set(population.holders.values())
    assert {row.recipient for row in rows} <= holders
    queued = Counter((row.recipient, row.text) for row in rows)
    got = Counter(received)
    missing = queued - got
    assert not missing, f"sent but never received: {len(missing)}"
    unknown = [key for key in got if key not in queued]
    assert not unknown, f"received messages nobody queued: {len(unknown)}"
    repeated = 0
    for key, extra in (got - queued).items():
        allowed = [row for row in rows if (row.recipient, row.text) == key
                   and row.id in in_flight and row.attempts > 1]
        assert extra <= len(allowed), (
            f"an outbox message was delivered {got[key]} times and was not in flight at a kill")
        repeated += extra
    return repeated
