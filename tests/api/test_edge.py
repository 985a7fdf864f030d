"""The request's edge (api/edge.py): Host, redirects, forwarded addresses and body sizes.

Before (issue 14): `Host: evil.example` on /api/v1/caps/ was answered with a 307 to
http://evil.example/api/v1/caps; X-Forwarded-For was believed from any loopback client, so
the console's per-address login lock could be rotated; a 1 MB signed SMS was stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Backend
from api.cli.serve import uvicorn_options
from api.edge import MAX_BODY_BYTES
from tests.api.channel_fixtures import AUTH, PUBLIC_BASE_URL, Channels, channel_settings
from tests.api.console.conftest import CHEAP_ARGON2, csrf_token
from tests.ledger.support import make_config, make_ledger, prepare_database


def _app(tmp_path: Path, **overrides: Any) -> TestClient:
    url = f"sqlite:///{tmp_path / 'edge.db'}"
    settings = channel_settings(url, twilio=None, telegram=None, WARM_NLU_AT_START=False,
                                **overrides)
    return TestClient(create_app(settings, ledger=make_ledger(url)), follow_redirects=False)


@pytest.mark.parametrize("host", ["evil.example", "frikort.example.dk.evil.example",
                                  "evil.example:443", "127.0.0.2", ""])
def test_a_foreign_host_is_400_before_any_route(tmp_path: Path, host: str) -> None:
    with _app(tmp_path, ALLOWED_HOSTS="") as client:
        for path in ("/api/v1/caps/", "/api/v1/caps", "/console", "/healthz"):
            response = client.get(path, headers={"Host": host, **AUTH})
            assert response.status_code == 400, (host, path, response.status_code)
            assert "evil" not in response.headers.get("location", "")


def test_our_own_hosts_are_served(tmp_path: Path) -> None:
    with _app(tmp_path, ALLOWED_HOSTS="") as client:
        for host in ("frikort.example.dk", "FRIKORT.example.dk:443", "127.0.0.1:8000",
                     "localhost"):
            assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
    with _app(tmp_path, ALLOWED_HOSTS="", ENVIRONMENT="production",
              **_production_secrets()) as client:
        assert client.get("/healthz", headers={"Host": "frikort.example.dk"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "127.0.0.1"}).status_code == 400


def _production_secrets() -> dict[str, str]:
    from tests.production_env import PRODUCTION_SECRETS

    return {k: v for k, v in PRODUCTION_SECRETS.items() if k != "ENVIRONMENT"}


def test_a_trailing_slash_redirect_goes_to_the_public_address(tmp_path: Path) -> None:
    with _app(tmp_path, ALLOWED_HOSTS="internal.lan") as client:
        response = client.get("/api/v1/caps/", headers={"Host": "internal.lan", **AUTH})
        assert response.status_code == 307
        assert response.headers["location"] == PUBLIC_BASE_URL + "/api/v1/caps"


def _fail_logins(client: TestClient, forwarded: list[str]) -> None:
    for index, address in enumerate(forwarded):
        response = client.post("/console/login", headers={"X-Forwarded-For": address}, data={
            "username": f"nobody{index}", "password": "wrong-password-123",
            "csrf_token": csrf_token(client), "next": ""})
        assert response.status_code in (200, 401, 429), response.status_code


def _locked_out(client: TestClient, forwarded: str) -> bool:
    response = client.post("/console/login", headers={"X-Forwarded-For": forwarded}, data={
        "username": "someone-new", "password": "wrong-password-123",
        "csrf_token": csrf_token(client), "next": ""})
    return "For mange forkerte forsøg" in response.text


def _console_app(tmp_path: Path, **overrides: Any) -> TestClient:
    url = f"sqlite:///{tmp_path / 'proxy.db'}"
    prepare_database(url)
    settings = channel_settings(url, twilio=None, telegram=None, WARM_NLU_AT_START=False,
                                **overrides)
    app = create_app(settings, ledger=Backend(make_config(url, staff=CHEAP_ARGON2)))
    return TestClient(app, follow_redirects=False, client=("127.0.0.1", 50000))


ROTATED = [f"198.51.100.{n}" for n in range(21)]


@contextlib.contextmanager
def _uvicorn_loggers_kept() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    kept = [(log.level, log.propagate, list(log.handlers)) for log in loggers]
    try:
        yield
    finally:
        for log, (level, propagate, handlers) in zip(loggers, kept, strict=True):
            log.setLevel(level)
            log.propagate = propagate
            log.handlers[:] = handlers


def test_x_forwarded_for_from_loopback_is_not_believed_by_default(tmp_path: Path) -> None:
    """The app as `frikort serve` runs it under uvicorn: 21 failed logins from loopback,
    each naming another address in X-Forwarded-For, lock loopback itself."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    prepare_database(url)
    settings = channel_settings(url, twilio=None, telegram=None, WARM_NLU_AT_START=False)
    app = create_app(settings, ledger=Backend(make_config(url, staff=CHEAP_ARGON2)))
    with _uvicorn_loggers_kept():  # uvicorn's Config sets its loggers for the whole process
        config = uvicorn.Config(app, **uvicorn_options(settings))
        config.load()

    async def attempts() -> bool:
        transport = httpx.ASGITransport(config.loaded_app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            async def fail(forwarded: str, username: str) -> str:
                page = await c.get("/console/login")
                [token] = re.findall(r'name="csrf-token" content="([^"]+)"', page.text)
                response = await c.post("/console/login", headers={
                    "X-Forwarded-For": forwarded}, data={
                    "username": username, "password": "wrong-password-123",
                    "csrf_token": token, "next": ""})
                return response.text
            for index, address in enumerate(ROTATED):
                await fail(address, f"nobody{index}")
            return "For mange forkerte forsøg" in await fail("203.0.113.99", "someone-new")
    assert asyncio.run(attempts())


def test_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    """With the proxy in FORWARDED_ALLOW_IPS each forwarded client is counted on its own:
    the same 21 attempts lock none of them, and 21 from one forwarded address lock it."""
    with _console_app(tmp_path, FORWARDED_ALLOW_IPS="127.0.0.1") as client:
        _fail_logins(client, ROTATED)
        assert not _locked_out(client, "203.0.113.99")
        _fail_logins(client, ["203.0.113.50"] * 21)
        assert _locked_out(client, "203.0.113.50")


def test_a_body_over_64_kb_is_413_before_parsing(channels: Channels) -> None:
    big = "x" * (MAX_BODY_BYTES + 1)
    for path in ("/webhooks/twilio/sms", "/webhooks/telegram", "/api/v1/employers",
                 "/console/login"):
        response = channels.client.post(path, content=big, headers={
            "Content-Type": "application/x-www-form-urlencoded", **AUTH})
        assert response.status_code == 413, (path, response.status_code)
    assert channels.transcript_rows() == []


def test_a_chunked_body_over_64_kb_is_413_too(channels: Channels) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"a" * 8192
    response = channels.client.post("/webhooks/twilio/sms", content=chunks(), headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
