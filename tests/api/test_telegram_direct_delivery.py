"""A Telegram turn's replies sent by the webhook that answered it, as soon as the turn commits
(issue 17: the outbox's claim and poll were seconds of a Telegram user's wait under load).

On PostgreSQL the turn's one closing statement writes its replies already leased to the
process, unless an older message to the same chat still waits; the webhook then sends them
and marks them sent. Everything the outbox promised still holds and is checked here: order
per chat, nothing lost when a send fails (the worker retries it and sends what came after),
no second send. On SQLite a turn ends in several statements, and the worker delivers as
before (tests/api/test_webhooks_telegram.py). Nothing in the app is patched: the fake Bot API
on loopback records what it was sent, and fails when a test tells it to."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import InboundMessage
from conversations.outbox import CLAIM_LEASE_S
from conversations.records import OutboxItem
from db.conversation_tables import OutboxMessage
from nlu import Parser
from tests.api.channel_fixtures import (
    SECRET_HEADER,
    TELEGRAM_SECRET,
    Channels,
    running_channels,
    tg_text_update,
)
from tests.fakes.http_server import RunningServer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.ledger.support import raw_engine

pytestmark = pytest.mark.postgres

CHAT = 5_560_001
FAQ = "hvor meget må jeg tjene"
_OUTBOX = OutboxMessage.__table__


@pytest.fixture
def channels_pg(postgres_demo_url: str, channel_parser: Parser, nlu_cache_dir: Path,
                fake_twilio: FakeTwilio, fake_telegram: FakeTelegram,
                twilio_server: tuple[FakeTwilio, RunningServer],
                telegram_server: tuple[FakeTelegram, RunningServer]) -> Iterator[Channels]:
    with running_channels(postgres_demo_url, channel_parser, twilio=twilio_server,
                          telegram=telegram_server, nlu_cache_dir=nlu_cache_dir) as made:
        yield made


def _chat_rows(channels: Channels) -> list[dict[str, object]]:
    return channels.outbox(_OUTBOX.c.recipient == str(CHAT))


def _sent_texts(fake: FakeTelegram) -> list[str]:
    """What the Bot API accepted for the chat, in order (refused sends left out)."""
    return [str(r.params["text"]) for r in fake.requests
            if r.path.endswith("/sendMessage") and r.answered_with == "ok"
            and str(r.params["chat_id"]) == str(CHAT)]


def test_the_reply_is_sent_by_the_webhooks_process_and_the_worker_finds_nothing(
    channels_pg: Channels, fake_telegram: FakeTelegram,
) -> None:
    channels = channels_pg
    response = channels.tg(tg_text_update(CHAT, FAQ))  # and waits for the webhook's own send

    assert response.status_code == 200, response.text
    [text] = _sent_texts(fake_telegram)
    assert "skattefrit" in text
    [row] = _chat_rows(channels)
    assert row["status"] == "sent" and row["provider_message_id"]
    assert row["attempts"] == 1  # sent once, by the webhook
    assert channels.deliver_all() == 0  # nothing left for the worker to claim
    assert len(_sent_texts(fake_telegram)) == 1


def test_a_reply_behind_an_older_waiting_message_waits_for_it_and_both_go_in_order(
    channels_pg: Channels, fake_telegram: FakeTelegram,
) -> None:
    channels = channels_pg
    # An earlier message to this chat failed for now and waits 30 s for its retry.
    engine = raw_engine(channels.url)
    with engine.begin() as conn:
        conn.execute(sa.insert(_OUTBOX).values(
            channel="telegram", recipient=str(CHAT), text="Den første besked", buttons_json="[]",
            status="pending", attempts=1, next_attempt_at=channels.clock.now
            + dt.timedelta(seconds=30), last_error="timeout", created_at=channels.clock.now))
    engine.dispose()

    channels.tg(tg_text_update(CHAT, FAQ))

    assert _sent_texts(fake_telegram) == []  # not past the one before it
    older, reply = _chat_rows(channels)
    assert reply["status"] == "pending" and reply["attempts"] == 0  # the worker's, not leased
    assert reply["next_attempt_at"] <= channels.clock.now
    channels.clock.advance(seconds=31)
    assert channels.deliver_all() == 2
    first, second = _sent_texts(fake_telegram)
    assert first == "Den første besked" and "skattefrit" in second
    assert {row["status"] for row in _chat_rows(channels)} == {"sent"}


def test_a_failed_send_is_retried_by_the_worker_and_nothing_is_sent_twice(
    channels_pg: Channels, fake_telegram: FakeTelegram,
) -> None:
    channels = channels_pg
    fake_telegram.fail("error_500", times=1, methods=["sendMessage"])

    response = channels.tg(tg_text_update(CHAT, FAQ))

    assert response.status_code == 200, response.text  # the message is stored and answered
    [row] = _chat_rows(channels)
    assert row["status"] == "pending" and row["attempts"] == 1 and "Server Error" in row["last_error"]
    assert row["next_attempt_at"] > channels.clock.now  # its backoff, not the lease
    assert row["next_attempt_at"] < channels.clock.now + dt.timedelta(seconds=CLAIM_LEASE_S)
    assert _sent_texts(fake_telegram) == []
    channels.clock.advance(seconds=3)
    assert channels.deliver_all() == 1
    [text] = _sent_texts(fake_telegram)
    assert "skattefrit" in text
    [row] = _chat_rows(channels)
    assert row["status"] == "sent" and row["attempts"] == 2


def test_after_a_failure_the_replies_behind_it_are_handed_to_the_worker_at_once(
    channels_pg: Channels, fake_telegram: FakeTelegram,
) -> None:
    """Two replies of one turn, the first refused: the second is not left leased for a minute
    behind it, and the worker sends both, in order, once the first's backoff is over."""
    channels = channels_pg
    dialogue = channels.app.state.services.dialogue
    inbound = InboundMessage(channel="telegram", sender=str(CHAT), text=FAQ,
                             provider_message_id="direct-two-1")
    replies = dialogue.handle(inbound, queue_replies=True, deliver_here=True)
    [only] = replies
    # A second reply of the same turn, as a turn with two would write it (leased, after it).
    engine = raw_engine(channels.url)
    with engine.begin() as conn:
        second_id = conn.execute(sa.insert(_OUTBOX).values(
            channel="telegram", recipient=str(CHAT), text="Og en besked mere", buttons_json="[]",
            status="pending", attempts=1, next_attempt_at=channels.clock.now
            + dt.timedelta(seconds=CLAIM_LEASE_S), last_error="",
            created_at=channels.clock.now).returning(_OUTBOX.c.id)).scalar_one()
    engine.dispose()
    assert only.outbox_id is not None and only.outbox_id < second_id
    leased = [OutboxItem(only.outbox_id, "telegram", str(CHAT), only.text, (), 1),
              OutboxItem(second_id, "telegram", str(CHAT), "Og en besked mere", (), 1)]
    fake_telegram.fail("error_500", times=1, methods=["sendMessage"])

    portal = channels.client.portal
    assert portal is not None
    portal.call(channels.worker.deliver_leased, leased)

    first, second = _chat_rows(channels)
    assert first["status"] == "pending" and first["attempts"] == 1  # its backoff
    assert second["status"] == "pending" and second["attempts"] == 0  # given back
    assert second["next_attempt_at"] <= channels.clock.now
    assert channels.deliver_all() == 0  # the second waits behind the first, as claims do
    channels.clock.advance(seconds=3)
    assert channels.deliver_all() == 2
    first_text, second_text = _sent_texts(fake_telegram)
    assert "skattefrit" in first_text and second_text == "Og en besked mere"


def test_a_process_that_dies_before_sending_leaves_the_reply_to_the_worker_after_the_lease(
    channels_pg: Channels, fake_telegram: FakeTelegram,
) -> None:
    """The turn committed its reply leased, and nothing sent it (the process died between the
    commit and the send): the worker takes it once the lease has run out, and sends it once."""
    channels = channels_pg
    dialogue = channels.app.state.services.dialogue
    inbound = InboundMessage(channel="telegram", sender=str(CHAT), text=FAQ,
                             provider_message_id="direct-crash-1")
    [reply] = dialogue.handle(inbound, queue_replies=True, deliver_here=True)
    assert reply.outbox_id is not None

    assert channels.deliver_all() == 0  # leased: not the worker's yet
    channels.clock.advance(seconds=CLAIM_LEASE_S + 1)
    assert channels.deliver_all() == 1
    [text] = _sent_texts(fake_telegram)
    assert "skattefrit" in text
    [row] = _chat_rows(channels)
    assert row["status"] == "sent" and row["id"] == reply.outbox_id


def test_the_webhook_answers_telegram_without_waiting_for_the_send(
    channels_pg: Channels, fake_telegram: FakeTelegram,
) -> None:
    """Telegram waits for the webhook's answer before it posts the chat's next update: a slow
    Bot API must not hold that answer. The reply still goes out once the Bot API answers."""
    channels = channels_pg
    fake_telegram.fail("timeout", times=1, methods=["sendMessage"])  # answers after 3 s
    body = json.dumps(tg_text_update(CHAT, FAQ))

    started = time.monotonic()
    response = channels.client.post("/webhooks/telegram", content=body, headers={
        "Content-Type": "application/json", SECRET_HEADER: TELEGRAM_SECRET})
    answered_after = time.monotonic() - started

    assert response.status_code == 200, response.text
    assert answered_after < 2.0, answered_after
    channels.settle()
    [sent] = fake_telegram.calls("sendMessage")  # answered late, but answered
    assert "skattefrit" in sent["text"]
    [row] = _chat_rows(channels)
    assert row["status"] == "sent" and row["attempts"] == 1
