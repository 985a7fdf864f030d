"""An API client on a fresh database per test, recording every response for the CPR-leak check.

Each database is a copy of the migrated template (tests/databases.py): a SQLite file copy, or a
PostgreSQL database made from the template database (a migration costs about a second here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Backend
from api.settings import Settings
from tests import databases
from tests.conftest import TEST_CLIENT_HOST
from tests.ledger.support import FakeClock, fresh_cpr, make_config, valid_cvr

ADMIN_KEY = "test-admin-key-5f0c2a"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
PROBLEM_JSON = "application/problem+json"
TODAY = dt.date(2025, 6, 16)  # FakeClock's default day


@dataclass
class Api:
    """A thin TestClient wrapper: authenticated by default, remembers every body it saw."""

    client: TestClient
    ledger: Backend
    clock: FakeClock
    cprs: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    _seed: int = 100

    def call(self, method: str, path: str, *, auth: bool = True,
             headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        all_headers = dict(AUTH) if auth else {}
        all_headers.update(headers or {})
        response = self.client.request(method, path, headers=all_headers, **kwargs)
        self.seen.append(response.text)
        self.seen.append(repr(dict(response.headers)))
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("PUT", path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json()

    # Building blocks -------------------------------------------------------------------

    def new_cpr(self) -> str:
        cpr = fresh_cpr()
        self.cprs.append(cpr)
        return cpr

    def employer(self, *, verified: bool = True, name: str = "Café Test ApS") -> str:
        self._seed += 1
        cvr = valid_cvr(self._seed)
        body = self.ok("POST", "/api/v1/employers", 201,
                       json={"cvr": cvr, "name": name, "phone": None})
        assert body["cvr"] == cvr and body["verified"] is False
        if verified:
            assert self.ok("POST", f"/api/v1/employers/{cvr}/verify")["verified"] is True
        return cvr

    def card(self, *, municipality: str = "751", valid_from: str = "2025-01-01",
             **extra: Any) -> str:
        body = self.ok("POST", "/api/v1/cards", 201, json={
            "cpr": self.new_cpr(), "name": "Test Borger", "municipality_code": municipality,
            "valid_from": valid_from, **extra})
        return str(body["number"])

    def employment(self, cvr: str, number: str, *, weekly_hours: str = "5",
                   start_date: str = "2025-01-01") -> dict[str, Any]:
        return dict(self.ok("POST", "/api/v1/employments", 201, json={
            "employer_cvr": cvr, "card_number": number, "start_date": start_date,
            "weekly_hours": weekly_hours}))

    def employed_card(self, *, municipality: str = "751") -> tuple[str, str]:
        cvr = self.employer()
        number = self.card(municipality=municipality)
        self.employment(cvr, number)
        return cvr, number

    def report(self, cvr: str, number: str, amount: str, *, key: str, post: bool = True,
               paid_on: str = "2025-06-01", hours: str = "4", status: int = 201,
               **extra: Any) -> dict[str, Any]:
        return dict(self.ok("POST", "/api/v1/wage-reports", status,
                            headers={"Idempotency-Key": key},
                            json={"employer_cvr": cvr, "card_number": number, "paid_on": paid_on,
                                  "hours": hours, "amount": amount, "post": post, **extra}))

    def balance(self, number: str, year: int = 2025) -> dict[str, Any]:
        return dict(self.ok("GET", f"/api/v1/cards/{number}/balance", params={"year": year}))

    def problem(self, method: str, path: str, status: int, code: str,
                **kwargs: Any) -> dict[str, Any]:
        """Asserts an RFC 9457 problem with the stable code and a Danish message."""
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
        body = response.json()
        assert body["code"] == code, body
        assert body["status"] == status
        assert body["type"].endswith("/" + code)
        assert body["title"]
        assert isinstance(body["detail"], str) and len(body["detail"]) > 5, body
        return dict(body)


def _build(url: str) -> Iterator[Api]:
    clock = FakeClock()
    ledger = Backend(make_config(url), clock=clock)
    settings = Settings(_env_file=None, DATABASE_URL=url, ADMIN_API_KEY=ADMIN_KEY,
                        ALLOWED_HOSTS=TEST_CLIENT_HOST)
    app = create_app(settings, ledger=ledger)
    with TestClient(app, raise_server_exceptions=True) as client:
        api = Api(client=client, ledger=ledger, clock=clock)
        yield api
    ledger.close()
    leaked = [cpr for cpr in api.cprs for text in api.seen if cpr in text]
    assert not leaked, "a CPR number appeared in a response"
    assert ledger_invariants_ok(url), "materialised balances disagree with the entries"


def ledger_invariants_ok(url: str) -> bool:
    check = Backend(make_config(url))
    try:
        return check.check_invariants() == []
    finally:
        check.close()


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    """An API on SQLite only: for read paths, validation and auth."""
    yield from _build(databases.sqlite_copy(tmp_path / "api.db"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """An API once on SQLite and once on PostgreSQL (each a copy of the migrated template)."""
    if request.param == "sqlite":
        url = databases.sqlite_copy(tmp_path / "api.db")
    else:
        url = str(request.getfixturevalue("postgres_url"))
    yield from _build(url)


# The end-to-end channel fixtures (fake Twilio and Telegram on loopback, the app on a
# demo-seeded ledger, one shared NLU parser): defined in channel_fixtures.py.
from tests.api.channel_fixtures import (  # noqa: E402,F401
    channel_parser,
    channels,
    channels_any_db,
    fake_telegram,
    fake_twilio,
    nlu_cache_dir,
    telegram_server,
    twilio_server,
)
