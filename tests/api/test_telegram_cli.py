"""`frikort telegram set-webhook` (in-process, tests/cli_runner.py) registers our URL and secret
with the (fake) Bot API."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.api.channel_fixtures import BOT_TOKEN, TELEGRAM_SECRET
from tests.cli_runner import run_frikort
from tests.fakes.http_server import RunningServer
from tests.fakes.telegram_api import FakeTelegram


def _run(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PUBLIC_"))}
    env.update(env_overrides)
    return run_frikort(["telegram", "set-webhook"], env=env, cwd=Path.cwd())


def test_set_webhook_sends_our_url_and_secret(
    telegram_server: tuple[FakeTelegram, RunningServer], fake_telegram: FakeTelegram
) -> None:
    result = _run({"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
                   "TELEGRAM_API_BASE_URL": telegram_server[1].url,
                   "PUBLIC_BASE_URL": "https://frikort.example.dk"})
    assert result.returncode == 0, result.stderr
    assert "https://frikort.example.dk/webhooks/telegram" in result.stdout
    assert fake_telegram.webhook["url"] == "https://frikort.example.dk/webhooks/telegram"
    assert fake_telegram.webhook["secret_token"] == TELEGRAM_SECRET


def test_set_webhook_without_settings_explains_and_fails() -> None:
    result = _run({})
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr


def test_set_webhook_refused_by_telegram_exits_non_zero(
    telegram_server: tuple[FakeTelegram, RunningServer], fake_telegram: FakeTelegram
) -> None:
    # Telegram refuses plain-http webhook URLs, and so does the fake.
    result = _run({"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
                   "TELEGRAM_API_BASE_URL": telegram_server[1].url,
                   "PUBLIC_BASE_URL": "http://frikort.example.dk"})
    assert result.returncode == 1
    assert "https" in result.stderr.lower()
    assert fake_telegram.webhook.get("url") != "http://frikort.example.dk/webhooks/telegram"
