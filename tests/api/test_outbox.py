"""The outbox end to end: messages queued in the ledger, delivered by the app's BackgroundScheduler to
fake Twilio and Telegram APIs on loopback, with the ledger's clock stepped by hand for backoff.

The app runs with RUN_BACKGROUND_WORKER=False; each test awaits ``deliver_due`` itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api.bootstrap import Backend
from api.channels.twilio_sender import TwilioSender
from api.scheduler import BackgroundScheduler
from conversations.outbox import BASE_BACKOFF_S, MAX_ATTEMPTS
from db.conversation_tables import OutboxMessage
from nlu import Parser
from tests.api.channel_fixtures import (
    JENS_PHONE,
    METTE_PHONE,
    NOW,
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    Channels,
    running_channels,
)
from tests.fakes.http_server import RunningServer, serve_asgi
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.ledger.support import FakeClock, fast_ledger, make_config

TG_CHAT = "5550042"
PER_RECIPIENT = 5


@pytest.fixture
def outbox(tmp_path: Path, channel_parser: Parser, fake_twilio: FakeTwilio,
           fake_telegram: FakeTelegram, twilio_server: tuple[FakeTwilio, RunningServer],
           telegram_server: tuple[FakeTelegram, RunningServer]) -> Iterator[Channels]:
    """Both senders configured; no demo data (the outbox needs none)."""
    with running_channels(f"sqlite:///{tmp_path / 'outbox.db'}", channel_parser,
                          twilio=twilio_server, telegram=telegram_server, seeded=False) as made:
        yield made


def queue(ledger: Backend, recipient: str, text: str, *, channel: str = "sms") -> int:
    """Queues a message as the bot does: inside a conversation turn."""
    return int(ledger.conversations.turn(
        channel, recipient, lambda turn: turn.enqueue(channel, recipient, text)))


def row(channels: Channels, message_id: int) -> dict[str, Any]:
    [found] = channels.outbox(OutboxMessage.id == message_id)
    return found


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def bodies(fake: FakeTwilio, *, accepted_only: bool = True) -> list[str]:
    return [r.params["Body"] for r in fake.requests
            if not accepted_only or r.answered_with == "ok"]


def test_a_provider_500_leaves_the_message_pending_with_backoff_then_it_is_delivered(
    outbox: Channels, fake_twilio: FakeTwilio,
) -> None:
    message_id = queue(outbox.ledger, JENS_PHONE, "Din løn er indberettet.")
    fake_twilio.fail("error_500", times=1)

    assert outbox.deliver() == 1

    failed = row(outbox, message_id)
    assert failed["status"] == "pending"
    assert failed["attempts"] == 1
    assert as_utc(failed["next_attempt_at"]) == NOW + dt.timedelta(seconds=BASE_BACKOFF_S)
    assert "500" in failed["last_error"]
    assert failed["provider_message_id"] is None

    assert outbox.deliver() == 0  # not due yet: nothing is sent
    assert len(fake_twilio.requests) == 1

    outbox.clock.advance(seconds=BASE_BACKOFF_S)
    assert outbox.deliver() == 1
    sent = row(outbox, message_id)
    assert sent["status"] == "sent" and sent["attempts"] == 2
    assert sent["provider_message_id"].startswith("SM")
    assert [r.answered_with for r in fake_twilio.requests] == ["error_500", "ok"]
    assert fake_twilio.messages()[-1]["To"] == JENS_PHONE
    assert fake_twilio.messages()[-1]["From"] == TWILIO_FROM
    assert outbox.ledger.conversations.outbox_counts() == {"sent": 1}


def test_backoff_grows_exponentially_and_respects_retry_after(
    outbox: Channels, fake_twilio: FakeTwilio,
) -> None:
    message_id = queue(outbox.ledger, JENS_PHONE, "Hej")
    fake_twilio.fail("error_500", times=3)
    waits = []
    for _ in range(3):
        start = outbox.clock.now
        assert outbox.deliver() == 1
        due = as_utc(row(outbox, message_id)["next_attempt_at"])
        waits.append((due - start).total_seconds())
        outbox.clock.now = due
    assert waits == [BASE_BACKOFF_S, 2 * BASE_BACKOFF_S, 4 * BASE_BACKOFF_S]

    fake_twilio.fail("rate_limited", times=1)  # HTTP 429 with Retry-After: 7
    start = outbox.clock.now
    outbox.deliver()
    due = as_utc(row(outbox, message_id)["next_attempt_at"])
    assert (due - start).total_seconds() == max(8 * BASE_BACKOFF_S, fake_twilio.retry_after_s)
    outbox.clock.now = due
    assert outbox.deliver() == 1
    assert row(outbox, message_id)["status"] == "sent"


@pytest.mark.parametrize("mode", ["permanent", "unsubscribed"])
def test_a_permanent_twilio_error_dead_letters_the_message_at_once(
    outbox: Channels, fake_twilio: FakeTwilio, mode: str,
) -> None:
    message_id = queue(outbox.ledger, "+4599999999", "Hej")
    fake_twilio.fail(mode)  # type: ignore[arg-type]  # one of the parametrized FakeTwilio modes

    outbox.deliver()

    dead = row(outbox, message_id)
    assert dead["status"] == "dead" and dead["attempts"] == 1
    assert "transient=False" in dead["last_error"]
    assert outbox.ledger.conversations.outbox_counts()["dead"] == 1
    outbox.clock.advance(hours=1)
    assert outbox.deliver() == 0
    assert len(fake_twilio.requests) == 1


def test_a_blocked_telegram_bot_dead_letters_the_message(
    outbox: Channels, fake_telegram: FakeTelegram,
) -> None:
    message_id = queue(outbox.ledger, TG_CHAT, "Hej", channel="telegram")
    fake_telegram.fail("blocked")
    outbox.deliver()
    assert row(outbox, message_id)["status"] == "dead"
    assert outbox.ledger.conversations.outbox_counts() == {"dead": 1}


def test_transient_failures_dead_letter_after_max_attempts(
    outbox: Channels, fake_twilio: FakeTwilio,
) -> None:
    message_id = queue(outbox.ledger, JENS_PHONE, "Hej")
    fake_twilio.fail("error_500")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert outbox.deliver() == 1
        found = row(outbox, message_id)
        assert found["attempts"] == attempt
        expected = "dead" if attempt == MAX_ATTEMPTS else "pending"
        assert found["status"] == expected
        outbox.clock.advance(hours=1)
    assert outbox.deliver() == 0
    assert len(fake_twilio.requests) == MAX_ATTEMPTS
    assert outbox.ledger.conversations.outbox_counts() == {"dead": 1}


def test_a_timeout_is_transient(outbox: Channels, fake_twilio: FakeTwilio,
                                twilio_server: tuple[FakeTwilio, RunningServer]) -> None:
    """The fake answers only after 3 s; a worker whose sender gives up after 0.3 s retries."""
    _, server = twilio_server
    impatient = BackgroundScheduler(outbox.ledger, {"sms": TwilioSender(
        TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM, server.url, timeout_s=0.3)})
    message_id = queue(outbox.ledger, JENS_PHONE, "Hej")
    fake_twilio.fail("timeout", times=1)

    assert asyncio.run(impatient.deliver_due()) == 1

    found = row(outbox, message_id)
    assert found["status"] == "pending" and found["attempts"] == 1
    assert "in time" in found["last_error"] and "transient=True" in found["last_error"]
    outbox.clock.advance(seconds=BASE_BACKOFF_S)
    assert asyncio.run(impatient.deliver_due()) == 1
    assert row(outbox, message_id)["status"] == "sent"


async def _not_json(_: Request) -> Response:
    """A proxy or captive portal answering in Twilio's place: 201, but not the API's JSON."""
    return PlainTextResponse("<html><body>Welcome to the guest network</body></html>", 201)


def test_a_garbled_provider_answer_is_retried_and_finally_dead_lettered_not_stuck(
    outbox: Channels,
) -> None:
    """An error the sender does not translate must not escape the worker: the batch goes on,
    the message backs off like a timeout, and MAX_ATTEMPTS still dead-letters it."""
    garbled = Starlette(routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", _not_json,
                                      methods=["POST"])])
    with serve_asgi(garbled) as server:
        worker = BackgroundScheduler(outbox.ledger, {"sms": TwilioSender(
            TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM, server.url)})
        ids = [queue(outbox.ledger, JENS_PHONE, "Hej Jens"),
               queue(outbox.ledger, METTE_PHONE, "Hej Mette")]

        assert asyncio.run(worker.deliver_due()) == 2

        for message_id in ids:
            found = row(outbox, message_id)
            assert found["status"] == "pending" and found["attempts"] == 1
            assert "JSONDecodeError" in found["last_error"]
            assert as_utc(found["next_attempt_at"]) == NOW + dt.timedelta(seconds=BASE_BACKOFF_S)
        for _ in range(MAX_ATTEMPTS - 1):
            outbox.clock.advance(hours=1)
            asyncio.run(worker.deliver_due())
    assert outbox.ledger.conversations.outbox_counts() == {"dead": 2}


def test_per_recipient_order_survives_a_failure_and_other_recipients_are_not_held_up(
    outbox: Channels, fake_twilio: FakeTwilio,
) -> None:
    for n in (1, 2, 3):
        queue(outbox.ledger, JENS_PHONE, f"Jens {n}")
    queue(outbox.ledger, METTE_PHONE, "Mette 1")
    fake_twilio.fail("error_500", times=1, to=JENS_PHONE)  # Jens's first message fails once

    outbox.deliver_all()  # everything due now: Mette's message, not Jens's 2 and 3

    assert bodies(fake_twilio) == ["Mette 1"]
    # A claim's sends go out side by side, so the two recipients' attempts may arrive in
    # either order; what matters is that each was tried once and Jens's 2 and 3 were not.
    assert sorted(bodies(fake_twilio, accepted_only=False)) == ["Jens 1", "Mette 1"]
    assert [r["status"] for r in outbox.outbox(OutboxMessage.recipient == JENS_PHONE)] == [
        "pending", "pending", "pending"]

    outbox.clock.advance(seconds=BASE_BACKOFF_S)
    outbox.deliver_all()

    assert bodies(fake_twilio) == ["Mette 1", "Jens 1", "Jens 2", "Jens 3"]
    assert outbox.ledger.conversations.outbox_counts() == {"sent": 4}


def test_channels_without_a_sender_are_left_pending_and_untouched(
    tmp_path: Path, channel_parser: Parser, fake_twilio: FakeTwilio, fake_telegram: FakeTelegram,
    twilio_server: tuple[FakeTwilio, RunningServer],
) -> None:
    with running_channels(f"sqlite:///{tmp_path / 'sms-only.db'}", channel_parser,
                          twilio=twilio_server, telegram=None, seeded=False) as sms_only:
        waiting = queue(sms_only.ledger, TG_CHAT, "Til Telegram", channel="telegram")
        before = row(sms_only, waiting)
        queue(sms_only.ledger, JENS_PHONE, "Til SMS")

        assert sms_only.deliver_all() == 1
        sms_only.clock.advance(days=1)
        assert sms_only.deliver_all() == 0

        assert row(sms_only, waiting) == before  # attempts 0, no error, same due time
        assert before["status"] == "pending" and before["attempts"] == 0
        assert bodies(fake_twilio) == ["Til SMS"]
        assert fake_telegram.requests == []

    with running_channels(f"sqlite:///{tmp_path / 'none.db'}", channel_parser,
                          twilio=None, telegram=None, seeded=False) as bare:
        queue(bare.ledger, JENS_PHONE, "Ingen afsender")
        assert bare.deliver_all() == 0
        assert bare.ledger.conversations.outbox_counts() == {"pending": 1}


def _drain(worker: BackgroundScheduler, start: threading.Barrier, errors: list[BaseException]) -> None:
    async def loop() -> None:
        start.wait()
        idle = 0
        while idle < 3:  # the other worker may still hold a lease; look a few more times
            handled = await worker.deliver_due(limit=2)
            idle = 0 if handled else idle + 1
            await asyncio.sleep(0 if handled else 0.02)

    try:
        asyncio.run(loop())
    except BaseException as exc:  # noqa: BLE001  (reported by the test)
        errors.append(exc)


@pytest.mark.parametrize("backend",
                         ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_workers_in_parallel_send_every_message_exactly_once_and_in_order(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, fake_twilio: FakeTwilio,
    twilio_server: tuple[FakeTwilio, RunningServer],
) -> None:
    """Two server processes, each with its own ledger connection pool and sender, deliver the
    same outbox at once (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""
    url = (f"sqlite:///{tmp_path / 'race.db'}" if backend == "sqlite"
           else str(request.getfixturevalue("postgres_url")))
    _, server = twilio_server
    clock = FakeClock(NOW)
    first = fast_ledger(url, clock)
    second = Backend(make_config(url), clock=clock)
    recipients = [f"+45600000{n:02d}" for n in range(12)]
    expected = []
    for n in range(PER_RECIPIENT):
        for recipient in recipients:
            queue(first, recipient, f"{recipient} nr. {n}")
            expected.append(f"{recipient} nr. {n}")
    workers = [BackgroundScheduler(ledger, {"sms": TwilioSender(TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM,
                                                         server.url)})
               for ledger in (first, second)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_drain, args=(w, start, errors)) for w in workers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        sent = bodies(fake_twilio)
        duplicates = [body for body, n in Counter(sent).items() if n > 1]
        assert duplicates == []
        assert sorted(sent) == sorted(expected)
        for recipient in recipients:
            mine = [b for b in sent if b.startswith(recipient)]
            assert mine == [f"{recipient} nr. {n}" for n in range(PER_RECIPIENT)], mine
        assert first.conversations.outbox_counts() == {"sent": len(expected)}
    finally:
        first.close()
        second.close()
