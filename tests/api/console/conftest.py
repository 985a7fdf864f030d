"""Fixtures for console tests: the real app on a fresh database with five known staff users.

    console_env            the app once on SQLite and once on PostgreSQL (use for anything
                           that reads or changes records)
    sqlite_console_env     SQLite only (route listings, headers, cookie flags)
    login(client, "caseworker_a") -> client      logged in through the real form
    csrf_token(client) -> str                    the session's token, for POSTs

Users (password PASSWORD for all): caseworker_a (municipality A = 751, Aarhus),
caseworker_b (B = 101, København), consultant (employer consultant in A), admin, helper_a
(værested staff in A: small jobs and their own phone list only).
Clients do not follow redirects, so tests see the 303s themselves.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from api.app import create_app
from api.bootstrap import Backend
from api.settings import Settings
from db.config import StaffConfig
from staff import StaffPrincipal
from tests import databases
from tests.conftest import TEST_CLIENT_HOST
from tests.ledger.support import FakeClock, make_config, prepare_database

PASSWORD = "konsol-test-adgang-1"
MUNICIPALITY_A, MUNICIPALITY_B = "751", "101"
CHEAP_ARGON2 = StaffConfig(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
USERS: dict[str, tuple[str, str | None, str]] = {
    "caseworker_a": ("caseworker", MUNICIPALITY_A, "Anna Aarhus"),
    "caseworker_b": ("caseworker", MUNICIPALITY_B, "Bo København"),
    "consultant": ("employer_consultant", MUNICIPALITY_A, "Carl Konsulent"),
    "admin": ("admin", None, "Dorte Admin"),
    "helper_a": ("helper", MUNICIPALITY_A, "Hanne Hjælper"),
}
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class ConsoleEnv:
    url: str
    app: FastAPI
    ledger: Backend
    clock: FakeClock
    client: TestClient
    users: dict[str, StaffPrincipal] = field(default_factory=dict)

    def new_client(self, address: str = "testclient") -> TestClient:
        """Another browser (its own cookie jar), optionally from another address."""
        return TestClient(self.app, follow_redirects=False, client=(address, 50000))


def _routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)


def console_routes(app: FastAPI, method: str) -> list[APIRoute]:
    """The app's console routes answering `method`. Page routers must carry their full
    prefix ("/console/...") in APIRouter(prefix=...): the check below makes sure of it."""
    from api.console import console_router

    stray = [r.path for r in _routes(console_router.routes)
             if not (r.path == "/console" or r.path.startswith("/console/"))]
    assert stray == [], "console routes outside /console (prefix given at include time?)"
    return [r for r in _routes(app.routes) if method in r.methods
            and (r.path == "/console" or r.path.startswith("/console/"))]


def csrf_token(client: TestClient) -> str:
    """The CSRF token of the client's session (a new anonymous session gets one too)."""
    page = client.get("/console")
    if page.status_code != 200:
        page = client.get("/console/login")
    assert page.status_code == 200, page.status_code
    match = _CSRF.search(page.text)
    assert match, "no csrf-token meta tag on the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """Logs in through the real form; fails the test if the login is refused."""
    token = csrf_token(client)
    response = client.post("/console/login", data={
        "username": username, "password": password, "csrf_token": token, "next": ""})
    assert response.status_code == 303, (response.status_code, response.text[:500])
    assert response.headers["location"] == "/console"
    return client


def post_form(client: TestClient, path: str, data: dict[str, str] | None = None,
              **kwargs: object) -> httpx.Response:
    """A form POST carrying the session's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})},
                       **kwargs)


def build_env(url: str, *, users: dict[str, StaffPrincipal] | None = None,
           now: dt.datetime | None = None) -> Iterator[ConsoleEnv]:
    """The console on the database at `url`, with the USERS added; `users` (and the clock's
    `now`) when the database holds them already (a copy of a built template)."""
    if users is None:
        prepare_database(url)
    clock = FakeClock() if now is None else FakeClock(now)
    ledger = Backend(make_config(url, staff=CHEAP_ARGON2), clock=clock)
    settings = Settings(_env_file=None, DATABASE_URL=url,
                        RUN_BACKGROUND_WORKER=False, WARM_NLU_AT_START=False,
                        ALLOWED_HOSTS=TEST_CLIENT_HOST)
    if users is None:
        users = {name: ledger.staff.add_user(name, PASSWORD, role, municipality, display)
                 for name, (role, municipality, display) in USERS.items()}
    app = create_app(settings, ledger=ledger)
    with TestClient(app, follow_redirects=False) as client:
        yield ConsoleEnv(url=url, app=app, ledger=ledger, clock=clock, client=client,
                         users=users)
    ledger.close()


def _add_users(url: str) -> dict[str, StaffPrincipal]:
    """Fills the console template: the USERS, added once per process and backend."""
    ledger = Backend(make_config(url, staff=CHEAP_ARGON2), clock=FakeClock())
    try:
        return {name: ledger.staff.add_user(name, PASSWORD, role, municipality, display)
                for name, (role, municipality, display) in USERS.items()}
    finally:
        ledger.close()


WITH_USERS = databases.built(_add_users)
"""The migrated schema with the console's USERS: every console test gets a copy."""


def env_on_copy(request: pytest.FixtureRequest, folder: Path,
                template: databases.Template) -> Iterator[tuple[str, object]]:
    """A copy of `template` on the backend the fixture's parameter names, and its facts."""
    if request.param == "postgres" and not request.getfixturevalue("postgres_available"):
        pytest.skip("PostgreSQL not reachable (this is a failure when CI is set)")
    url, facts = databases.copy_of(template, request.param, folder)
    try:
        yield url, facts
    finally:
        databases.release(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def console_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConsoleEnv]:
    for url, users in env_on_copy(request, tmp_path, WITH_USERS):
        assert isinstance(users, dict)
        yield from build_env(url, users=users)


@pytest.fixture
def sqlite_console_env(tmp_path: Path) -> Iterator[ConsoleEnv]:
    url = databases.sqlite_copy(tmp_path / "console.db", WITH_USERS)
    users = databases.facts_of(WITH_USERS, postgres=False)
    assert isinstance(users, dict)
    yield from build_env(url, users=users)
