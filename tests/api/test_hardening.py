"""Start-up and failure behaviour: demo chat off in production, NLU warm-up, Telegram loop cap."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import LazyParser
from api.routes.webhooks import MAX_TELEGRAM_ATTEMPTS
from tests.api.channel_fixtures import Channels, channel_settings, tg_text_update
from tests.ledger.support import make_ledger
from tests.production_env import PRODUCTION_SECRETS


def _client(tmp_path: Path, **overrides: object) -> TestClient:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    settings = channel_settings(url, twilio=None, telegram=None, WARM_NLU_AT_START=False,
                                **overrides)
    return TestClient(create_app(settings, ledger=make_ledger(url)))


def test_demo_chat_is_off_in_production_unless_asked_for(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        assert client.get("/demo").status_code == 200
    with _client(tmp_path, **PRODUCTION_SECRETS) as client:
        assert client.get("/demo").status_code == 404
        assert client.post("/demo/messages", json={}).status_code == 404
    with _client(tmp_path, DEMO_CHAT=True, **PRODUCTION_SECRETS) as client:
        assert client.get("/demo").status_code == 200


def test_the_nlu_model_is_loaded_in_the_background_at_start(tmp_path: Path,
                                                            nlu_cache_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    settings = channel_settings(url, twilio=None, telegram=None, nlu_cache_dir=nlu_cache_dir,
                                WARM_NLU_AT_START=True)
    app = create_app(settings, ledger=make_ledger(url))
    parser = app.state.services.parser
    assert isinstance(parser, LazyParser) and parser._parser is None
    with TestClient(app):
        deadline = time.monotonic() + 120
        while parser._parser is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert parser._parser is not None  # ready before any message arrived


def test_an_update_that_always_fails_is_acknowledged_after_a_few_tries(channels: Channels) -> None:
    # Fault injection in the database, not in our code: the transcript table disappears, so
    # every attempt to store the message fails.
    path = channels.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE transcript_messages RENAME TO transcript_gone")
    update = tg_text_update(5550001, "hej")
    statuses = [channels.tg(update).status_code for _ in range(MAX_TELEGRAM_ATTEMPTS)]
    assert statuses[:-1] == [503] * (MAX_TELEGRAM_ATTEMPTS - 1)
    assert statuses[-1] == 200
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE transcript_gone RENAME TO transcript_messages")
