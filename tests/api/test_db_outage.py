"""A database that does not answer: 503 problem+json with Retry-After, never a 500 or a 200.

The app is pointed at a PostgreSQL URL on a loopback port where nothing listens (connections
are refused, as while PostgreSQL restarts); nothing in the app is patched. The recovery after
a real outage is tested in tests/faults/test_postgres_outage.py against a private cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.db_outage import RETRY_AFTER_S
from db.engine import is_database_unavailable
from db.errors import danish_message
from nlu import Parser
from tests.api.channel_fixtures import (
    AUTH,
    JENS_PHONE,
    TELEGRAM_SECRET,
    assert_problem,
    channel_settings,
    tg_text_update,
    twilio_params,
    twilio_signature,
)
from tests.fakes.http_server import RunningServer, closed_port
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

DANISH = danish_message("temporarily_unavailable")


@pytest.fixture
def no_database(channel_parser: Parser, twilio_server: tuple[FakeTwilio, RunningServer],
                telegram_server: tuple[FakeTelegram, RunningServer],
                fake_telegram: FakeTelegram) -> Iterator[TestClient]:
    """Both channels configured; the database refuses every connection."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nowhere"
    settings = channel_settings(url, twilio=twilio_server[1], telegram=telegram_server[1])
    app = create_app(settings, parser=channel_parser)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


def assert_outage(response: httpx.Response) -> None:
    body = assert_problem(response, 503, "temporarily_unavailable")
    assert body["detail"] == DANISH
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)


def test_an_sms_while_the_database_is_down_is_503_so_twilio_tries_again(
    no_database: TestClient,
) -> None:
    form = twilio_params(JENS_PHONE, "saldo")
    response = no_database.post("/webhooks/twilio/sms", data=form,
                                headers={"X-Twilio-Signature": twilio_signature(form)})
    assert_outage(response)
    assert "<Response" not in response.text  # no TwiML: Twilio must not take it as answered


def test_a_telegram_update_stays_503_however_often_it_is_retried_during_an_outage(
    no_database: TestClient,
) -> None:
    """Regression: an update failing MAX_TELEGRAM_ATTEMPTS (5) times was acknowledged with a
    200, so an outage longer than five redeliveries lost a message that was never stored."""
    update = tg_text_update(5_550_009, "saldo")
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    responses = [no_database.post("/webhooks/telegram", json=update, headers=headers)
                 for _ in range(8)]
    assert [response.status_code for response in responses] == [503] * 8
    for response in responses:
        assert_outage(response)


def test_the_rest_api_answers_503_and_the_probes_tell_live_from_ready(
    no_database: TestClient,
) -> None:
    assert_outage(no_database.get("/api/v1/caps", headers=AUTH))
    assert no_database.get("/healthz").status_code == 200  # the process lives
    assert_outage(no_database.get("/readyz"))  # but it cannot serve


def test_readyz_is_200_when_the_database_answers(tmp_path: Path, channel_parser: Parser) -> None:
    from tests.ledger.support import prepare_database

    url = f"sqlite:///{tmp_path / 'ready.db'}"
    prepare_database(url)
    app = create_app(channel_settings(url, twilio=None, telegram=None), parser=channel_parser)
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_a_database_bug_is_not_disguised_as_an_outage(
    tmp_path: Path, channel_parser: Parser, twilio_server: tuple[FakeTwilio, RunningServer],
) -> None:
    """A database without its tables is a deployment bug: it stays a 500 with a traceback in
    the log, rather than a 503 that makes Twilio retry for ever."""
    url = f"sqlite:///{tmp_path / 'unmigrated.db'}"
    app = create_app(channel_settings(url, twilio=twilio_server[1], telegram=None),
                     parser=channel_parser)
    form = twilio_params(JENS_PHONE, "saldo")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/webhooks/twilio/sms", data=form,
                               headers={"X-Twilio-Signature": twilio_signature(form)})
    assert response.status_code == 500, response.text


def test_what_counts_as_an_outage() -> None:
    refused = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/x")
    with pytest.raises(sa.exc.OperationalError) as caught:
        refused.connect()
    refused.dispose()
    assert is_database_unavailable(caught.value)
    assert is_database_unavailable(RuntimeError("wrapped")) is False
    wrapped = RuntimeError("a job failed")
    wrapped.__cause__ = caught.value
    assert is_database_unavailable(wrapped)
    assert is_database_unavailable(sa.exc.TimeoutError("pool exhausted"))

    sqlite = sa.create_engine("sqlite://")
    with sqlite.connect() as conn, pytest.raises(sa.exc.OperationalError) as missing:
        conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert not is_database_unavailable(missing.value)
