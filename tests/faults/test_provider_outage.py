"""The outbound provider down for a minute, or slow (issue 7, faults).

`frikort serve --workers 2` runs against fake Twilios on loopback, three cases side by side so
the test costs one outage of wall time, not three:

* ``error_500`` (SQLite) and ``timeout`` (PostgreSQL): the provider answers every create with
  HTTP 500, or sits on it past the sender's 10-second timeout, for ``OUTAGE_S`` (a real minute)
  while employers confirm wage reports over SMS; each confirmation queues an SMS to the card
  holder, several per holder. Then it recovers. Nothing counts as delivered during the outage,
  nothing is dead-lettered or lost; afterwards every message goes out exactly once, per
  recipient in the order queued, within a bound computed from the outbox's backoff
  (BASE_BACKOFF_S, MAX_BACKOFF_S, MAX_ATTEMPTS) and the sender's timeout.
* ``slow`` (SQLite): the provider accepts, but takes ``SLOW_PROVIDER_S`` per message, and a
  backlog for many recipients was queued before the server started. Every message is sent once:
  a worker never goes on sending a claimed batch after its claim's lease has run out (when
  the other worker may have claimed the same messages), which it did with batches of 20.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from api.bootstrap import Backend
from conversations import outbox
from conversations.outbox import BASE_BACKOFF_S, MAX_ATTEMPTS, MAX_BACKOFF_S
from conversations.records import OutboxView
from db.unit_of_work import UnitOfWork
from tests.fakes.twilio_api import FakeTwilio, TwilioMode
from tests.faults.server import PROVIDER_TIMEOUT_S, ServerConfig, ServerProcess, fake_twilio
from tests.faults.traffic import (
    Population,
    TrafficDriver,
    delivered,
    outbox_rows,
    scripts_for,
    seed_population,
    wait_until_drained,
)

log = logging.getLogger(__name__)

OUTAGE_S = 60.0
"""How long the provider fails: the issue's "a minute", for real."""
SENDER_TIMEOUT_S = 10.0
"""TwilioSender's own HTTP timeout (api/channels/twilio_sender.py)."""
RECIPIENTS, REPORTS_EACH = 8, 3
"""Card holders (one employer each) and the reports confirmed for each during the outage."""
SLOW_PROVIDER_S = 8.0
"""The slow case: each create is accepted after this long (under the sender's timeout)."""
BACKLOG = 10
"""The slow case's recipients, one message each: 80 s of sending in one batch of 20, past the
60-second lease, while the other worker sits idle and claims what the lease no longer holds."""
SLACK_S = 20.0
"""Polling, a busy shared machine: what the bounds allow beyond the arithmetic."""


def test_backoff_lets_a_minute_of_outage_pass_without_dead_letters() -> None:
    """The arithmetic the outage cases rely on: a message failing from the first second of a
    one-minute outage, with either kind of failure, is still pending at its end."""
    for attempt_s in (0.0, SENDER_TIMEOUT_S):
        failures = _failures_within(OUTAGE_S, attempt_s)
        assert failures < MAX_ATTEMPTS, (attempt_s, failures)


def _delays() -> list[float]:
    """The backoff after the 1st, 2nd, ... failure (outbox.mark_failed)."""
    return [min(BASE_BACKOFF_S * 2 ** (n - 1), MAX_BACKOFF_S) for n in range(1, MAX_ATTEMPTS)]


def _failures_within(outage_s: float, attempt_s: float) -> int:
    """How many attempts fail when the first starts as the outage starts."""
    moment, failures = 0.0, 0
    for delay in _delays():
        if moment + attempt_s > outage_s:
            break
        failures += 1
        moment += attempt_s + delay
    return failures


def recovery_bound_s(outage_s: float, attempt_s: float) -> float:
    """The longest a message can still wait once the provider is back: the longest backoff
    begun within the outage, plus an attempt that was under way when it ended."""
    failures = _failures_within(outage_s, attempt_s)
    return _delays()[max(failures - 1, 0)] + attempt_s + SLACK_S


@dataclass
class Case:
    name: str
    mode: TwilioMode
    attempt_s: float
    """How long one attempt takes in this mode."""
    server: ServerProcess
    fake: FakeTwilio
    ledger: Backend
    recipients: list[str]
    population: Population | None = None
    """Set for the outage cases, which queue their messages through the bot."""
    recovered_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    """When this case's own server was spawned: the slow case's clock starts there, not at
    the queueing, which comes before the other cases' servers start."""
    rows: list[OutboxView] = field(default_factory=list)


@pytest.fixture
def cases(tmp_path: Path, trained_nlu: Path, postgres_database: str) -> Iterator[list[Case]]:
    """Every case's server (not started yet), fake Twilio and prepared database."""
    with ExitStack() as stack:
        made = []
        for name, mode, attempt_s, url in (
            ("error_500", "error_500", 0.0, f"sqlite:///{tmp_path / 'outage.db'}"),
            ("timeout", "timeout", SENDER_TIMEOUT_S, postgres_database),
            ("slow", "timeout", SLOW_PROVIDER_S, f"sqlite:///{tmp_path / 'slow.db'}"),
        ):
            delay = SLOW_PROVIDER_S if name == "slow" else PROVIDER_TIMEOUT_S
            fake, fake_server = stack.enter_context(fake_twilio(slow_delay_s=delay))
            server = stack.enter_context(ServerProcess(
                ServerConfig(database_url=url, twilio_api_base_url=fake_server.url,
                             workers=2, nlu_cache_dir=trained_nlu),
                tmp_path / f"server-{name}.log"))
            server.migrate()
            ledger = Backend(server.settings().ledger)
            stack.callback(ledger.close)
            case = Case(name, mode, attempt_s, server, fake, ledger, [])
            if name == "slow":
                fake.fail("timeout")  # slow from the first message on
                case.recipients = _queue_backlog(ledger)
            else:
                case.population = seed_population(
                    ledger, dt.datetime.now(dt.UTC).date(), employers=RECIPIENTS,
                    holders_per_employer=1)
                case.recipients = list(case.population.holders.values())
            made.append(case)
        yield made


def _queue_backlog(ledger: Backend) -> list[str]:
    """One message for each of many recipients, queued with the ledger's own enqueue before
    any worker runs, so the first worker to poll claims the whole batch it may."""
    phones = [f"+45270{n:05d}" for n in range(BACKLOG)]

    def queue(uow: UnitOfWork) -> None:
        for phone in phones:
            outbox.enqueue(uow.session, channel="sms", recipient=phone,
                           text=f"Besked til modtager {phone[-2:]}", buttons=(), now=uow.now,
                           conversation_id=None)
        uow.commit()
    ledger.run_write(queue)
    return phones


@pytest.mark.postgres
def test_provider_outage_holds_messages_and_sends_them_once_in_order(
    cases: list[Case], record_property: pytest.RecordProperty,
) -> None:
    for case in cases:
        case.started_at = dt.datetime.now(dt.UTC)
        case.server.start()
    outages = [case for case in cases if case.population is not None]
    for case in outages:
        case.fake.fail(case.mode)
    began = time.monotonic()
    drivers = []
    for case in outages:
        assert case.population is not None
        scripts = scripts_for(case.population, reports_per_employer=REPORTS_EACH,
                              balance_questions=0)
        driver = TrafficDriver(case.server.url, scripts, rate_per_s=2.0 * RECIPIENTS)
        driver.start(OUTAGE_S / 2)
        drivers.append(driver)
    for driver in drivers:
        assert driver.join(OUTAGE_S / 2 + 30.0), "the reports were not all answered"
        driver.close()
        assert driver.unacknowledged() == []
    time.sleep(max(0.0, began + OUTAGE_S - time.monotonic()))
    for case in outages:
        _check_nothing_delivered_yet(case)
        case.fake.fail("ok")
        case.recovered_at = dt.datetime.now(dt.UTC)
    for case in cases:
        bound = (recovery_bound_s(OUTAGE_S, case.attempt_s) if case.recovered_at is not None
                 else BACKLOG * SLOW_PROVIDER_S + SLACK_S)
        case.rows = wait_until_drained(case.ledger, timeout_s=bound + 30.0)
        took = _check_sent_once_in_order(case, bound)
        record_property(f"{case.name}_seconds", round(took, 1))
        record_property(f"{case.name}_max_attempts", max(r.attempts for r in case.rows))
        record_property(f"{case.name}_worker_restarts", case.server.worker_restarts())
        log.info("provider %s: %d messages, max %d attempts, all sent %.1f s after %s "
                 "(bound %.0f s)", case.name, len(case.rows), max(r.attempts for r in case.rows),
                 took, "recovery" if case.recovered_at else "the server started", bound)


def _check_nothing_delivered_yet(case: Case) -> None:
    """At the end of the outage: every message queued and waiting, none given up."""
    rows = outbox_rows(case.ledger)
    assert len(rows) == len(case.recipients) * REPORTS_EACH, (case.name, len(rows))
    assert delivered(case.fake) == [], f"{case.name}: something counted as delivered"
    states = Counter(row.status for row in rows)
    assert states == {"pending": len(rows)}, (case.name, states)


def _accepted(case: Case) -> list[tuple[str, str]]:
    """(To, Body) the provider accepted, in the order received: "ok" answers, and for the slow
    provider its late answers too (they come before the sender's timeout)."""
    if case.name != "slow":
        return delivered(case.fake)
    return [(r.params.get("To", ""), r.params.get("Body", "")) for r in case.fake.requests
            if r.answered_with in ("ok", "timeout")]


def _check_sent_once_in_order(case: Case, bound: float) -> float:
    """Everything sent once, in order per recipient, soon enough; returns the seconds from
    recovery (or the server's start) to the last send."""
    rows = case.rows
    assert Counter(row.status for row in rows) == {"sent": len(rows)}, case.name
    assert max(row.attempts for row in rows) < MAX_ATTEMPTS
    received = _accepted(case)
    counts = Counter(received)
    twice = {key: n for key, n in counts.items() if n > 1}
    assert not twice, f"{case.name}: {sum(twice.values())} deliveries of {len(twice)} messages"
    assert counts == Counter((row.recipient, row.text) for row in rows), case.name
    for phone in case.recipients:
        queued = [row.text for row in rows if row.recipient == phone]  # rows are by id
        arrived = [body for to, body in received if to == phone]
        assert arrived == queued, f"{case.name}: out of order for one recipient"
    start = case.recovered_at or case.started_at
    assert start is not None and start >= min(row.created_at for row in rows)
    last = max(row.sent_at for row in rows if row.sent_at is not None)
    took = (last - start).total_seconds()
    assert took <= bound, f"{case.name}: the last message went {took:.0f}s after {start}"
    return took
