"""Console login, sessions, CSRF, roles, security headers and escaping, through the real app.

The route-walking tests cover every console route the app serves, so pages added later
under api/console/pages/ are checked without touching this file.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Annotated
from urllib.parse import quote

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from api.console.auth_routes import safe_next
from api.console.deps import CsrfChecked, CurrentStaff, csrf_protect, not_found, require_roles
from api.console.headers import SECURITY_HEADERS
from api.console.session import COOKIE_NAME
from api.settings import Settings
from ledger.errors import CardNotActive, CardNotFound
from staff import StaffPrincipal
from tests.api.console.conftest import (
    PASSWORD,
    ConsoleEnv,
    console_routes,
    csrf_token,
    login,
    post_form,
)
from tests.conftest import TEST_CLIENT_HOST
from tests.production_env import PRODUCTION_SECRETS

PUBLIC_GETS = {"/console/login"}
FAILED = "Forkert brugernavn eller adgangskode."
LOCKED = "For mange forkerte forsøg."


def fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def attempt(client: TestClient, username: str, password: str) -> tuple[int, str]:
    response = client.post("/console/login", data={
        "username": username, "password": password, "csrf_token": csrf_token(client)})
    return response.status_code, response.text


def session_data(client: TestClient) -> dict[str, object]:
    """The signed cookie's payload (base64 JSON before the signature)."""
    value = client.cookies[COOKIE_NAME]
    payload = value.split(".")[0]
    return dict(json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4))))


# Logging in and out --------------------------------------------------------------------


def test_login_shows_who_you_are_and_keeps_only_ids_in_the_cookie(
    console_env: ConsoleEnv,
) -> None:
    client = login(console_env.client, "caseworker_a")
    home = client.get("/console")
    assert home.status_code == 200
    assert "Anna Aarhus" in home.text and "Sagsbehandler" in home.text
    assert "Aarhus (751)" in home.text
    assert set(session_data(client)) == {"uid", "ver", "csrf"}
    assert session_data(client)["uid"] == console_env.users["caseworker_a"].id
    nav = re.findall(r'<ul class="nav">(.*?)</ul>', home.text, re.S)[0]
    assert "Indbakke" in nav and "Kort" in nav and "Loftbeløb" not in nav


def test_nav_follows_the_role(console_env: ConsoleEnv) -> None:
    admin = login(console_env.new_client(), "admin").get("/console").text
    assert "Loftbeløb" in admin and "Alle kommuner" in admin
    consultant = login(console_env.new_client(), "consultant").get("/console").text
    assert "Arbejdsgivere" in consultant and 'href="/console/cards"' not in consultant


def test_wrong_password_and_unknown_user_get_the_same_answer(console_env: ConsoleEnv) -> None:
    status, text = attempt(console_env.client, "caseworker_a", "forkert-adgang-1")
    assert status == 401 and FAILED in text
    status, unknown = attempt(console_env.client, "nobody", "forkert-adgang-1")
    assert status == 401 and FAILED in unknown
    assert COOKIE_NAME not in console_env.client.cookies or "uid" not in session_data(
        console_env.client)
    assert console_env.client.get("/console").status_code == 303


def test_five_failures_lock_the_account_then_it_opens_again(console_env: ConsoleEnv) -> None:
    client = console_env.client
    for _ in range(4):
        assert attempt(client, "caseworker_a", "forkert-adgang-1")[0] == 401
    status, text = attempt(client, "caseworker_a", "forkert-adgang-1")
    assert status == 429 and LOCKED in text
    assert attempt(client, "caseworker_a", PASSWORD)[0] == 429
    # Another account from the same address is not affected.
    login(console_env.new_client(), "caseworker_b")
    console_env.clock.advance(minutes=15)
    login(client, "caseworker_a")


def test_twenty_failures_from_one_address_lock_that_address(console_env: ConsoleEnv) -> None:
    attacker = console_env.new_client("10.9.8.7")
    for i in range(19):
        assert attempt(attacker, f"guess-{i}", "forkert-adgang-1")[0] == 401
    assert attempt(attacker, "guess-last", "forkert-adgang-1")[0] == 429
    assert attempt(attacker, "caseworker_a", PASSWORD)[0] == 429
    login(console_env.new_client("10.9.8.8"), "caseworker_a")


def test_logout_ends_the_session_and_a_replayed_cookie_is_refused(
    console_env: ConsoleEnv,
) -> None:
    client = login(console_env.client, "caseworker_a")
    stolen = client.cookies[COOKIE_NAME]
    assert post_form(client, "/console/logout").headers["location"] == "/console/login"
    assert client.get("/console").status_code == 303
    replay = console_env.new_client()
    replay.cookies.set(COOKIE_NAME, stolen, domain="testserver", path="/console")
    refused = replay.get("/console")
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/console/login")


def test_a_deactivated_user_is_logged_out_at_the_next_request(console_env: ConsoleEnv) -> None:
    client = login(console_env.client, "caseworker_a")
    console_env.ledger.staff.deactivate_user(console_env.users["caseworker_a"].id)
    assert client.get("/console").status_code == 303
    assert attempt(console_env.new_client(), "caseworker_a", PASSWORD)[0] == 401


def test_logout_needs_the_csrf_token(console_env: ConsoleEnv) -> None:
    client = login(console_env.client, "caseworker_a")
    assert client.post("/console/logout").status_code == 403
    assert client.get("/console").status_code == 200


# Cookie flags -------------------------------------------------------------------------


def _login_cookie(client: TestClient) -> str:
    token = csrf_token(client)
    response = client.post("/console/login", data={
        "username": "admin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    [cookie] = [v for k, v in response.headers.multi_items()
                if k == "set-cookie" and v.startswith(COOKIE_NAME + "=")]
    return cookie.lower()


def test_session_cookie_flags(sqlite_console_env: ConsoleEnv) -> None:
    cookie = _login_cookie(sqlite_console_env.client)
    for flag in ("httponly", "samesite=strict", "path=/console", "max-age=28800"):
        assert flag in cookie, cookie
    assert "secure" not in cookie  # development serves plain http


def test_secure_cookie_when_configured(sqlite_console_env: ConsoleEnv) -> None:
    from api.app import create_app

    settings = Settings(_env_file=None, DATABASE_URL=sqlite_console_env.url,
                        CONSOLE_COOKIE_SECURE=True, RUN_BACKGROUND_WORKER=False,
                        ALLOWED_HOSTS=TEST_CLIENT_HOST,
                        WARM_NLU_AT_START=False)
    app = create_app(settings, ledger=sqlite_console_env.ledger)
    client = TestClient(app, follow_redirects=False, base_url="https://testserver")
    assert "; secure" in _login_cookie(client)
    production = Settings(_env_file=None, **PRODUCTION_SECRETS)  # type: ignore[arg-type]  # strings, parsed by pydantic
    assert production.console_cookie_secure
    assert not Settings(_env_file=None).console_cookie_secure


# Every route: anonymous users, CSRF --------------------------------------------------------


def test_every_console_get_route_refuses_anonymous_users(
    sqlite_console_env: ConsoleEnv,
) -> None:
    routes = console_routes(sqlite_console_env.app, "GET")
    assert {"/console", "/console/login"} <= {r.path for r in routes}
    anonymous = sqlite_console_env.new_client()
    for route in routes:
        if route.path in PUBLIC_GETS:
            continue
        path = fill(route.path)
        page = anonymous.get(path)
        assert page.status_code == 303, (route.path, page.status_code)
        assert page.headers["location"] == f"/console/login?next={quote(path, safe='')}"
        fetch = anonymous.get(path, headers={"X-Requested-With": "console"})
        assert fetch.status_code == 401, (route.path, fetch.status_code)


def test_every_console_post_route_refuses_anonymous_users(
    sqlite_console_env: ConsoleEnv,
) -> None:
    anonymous = sqlite_console_env.new_client()
    token = csrf_token(anonymous)
    for route in console_routes(sqlite_console_env.app, "POST"):
        if route.path in {"/console/login", "/console/logout"}:
            continue  # logging in is for anonymous users; logging out needs no account
        response = anonymous.post(fill(route.path), data={"csrf_token": token})
        assert response.status_code == 401, (route.path, response.status_code)


def _depends_on(dependant: object, call: object) -> bool:
    return any(d.call is call or _depends_on(d, call)
               for d in getattr(dependant, "dependencies", []))


def test_every_console_post_route_checks_csrf(sqlite_console_env: ConsoleEnv) -> None:
    routes = console_routes(sqlite_console_env.app, "POST")
    assert {"/console/login", "/console/logout"} <= {r.path for r in routes}
    missing = [r.path for r in routes if not _depends_on(r.dependant, csrf_protect)]
    assert missing == [], "POST routes without CsrfChecked"
    client = login(sqlite_console_env.new_client(), "admin")
    for route in routes:
        for headers, data in (({}, {}), ({}, {"csrf_token": "wrong"}),
                              ({"X-CSRF-Token": "wrong"}, {}), ({"X-CSRF-Token": ""}, {})):
            response = client.post(fill(route.path), data=data, headers=headers)
            assert response.status_code == 403, (route.path, headers, data, response.status_code)
            assert "Formularen er udløbet" in response.text
    assert client.get("/console").status_code == 200  # still logged in: nothing happened


def test_the_csrf_header_works_for_scripts(sqlite_console_env: ConsoleEnv) -> None:
    client = login(sqlite_console_env.client, "admin")
    response = client.post("/console/logout", headers={"X-CSRF-Token": csrf_token(client)})
    assert response.status_code == 303
    assert client.get("/console").status_code == 303


# Roles, not found, ledger errors on console pages ----------------------------------------


AdminOnly = Annotated[StaffPrincipal, Depends(require_roles("admin"))]


def _add_probe_routes(app: FastAPI) -> None:
    """Routes that exercise the dependencies the page modules will use."""
    probe = APIRouter(prefix="/console/probe")

    @probe.get("/admin-only")
    def admin_only(principal: AdminOnly) -> dict[str, str]:
        return {"user": principal.username}

    @probe.get("/missing")
    def missing(principal: CurrentStaff) -> None:
        not_found()

    @probe.get("/card")
    def card(principal: CurrentStaff) -> None:
        raise CardNotFound(number="99999")

    @probe.post("/conflict")
    def conflict(principal: CurrentStaff, _: CsrfChecked) -> None:
        raise CardNotActive(number="12345")

    app.include_router(probe)


def test_roles_not_found_and_ledger_errors_are_console_pages(console_env: ConsoleEnv) -> None:
    _add_probe_routes(console_env.app)
    caseworker = login(console_env.new_client(), "caseworker_a")
    denied = caseworker.get("/console/probe/admin-only")
    assert denied.status_code == 403 and "Ingen adgang" in denied.text
    admin = login(console_env.new_client(), "admin")
    assert admin.get("/console/probe/admin-only").json() == {"user": "admin"}
    for path in ("/console/probe/missing", "/console/probe/card", "/console/no-such-page"):
        page = caseworker.get(path)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "Siden findes ikke" in page.text and "99999" not in page.text
    conflict = post_form(caseworker, "/console/probe/conflict")
    assert conflict.status_code == 409 and "Frikort 12345 er ikke aktivt." in conflict.text
    # The REST API keeps its problem+json answers.
    api = console_env.client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


# Headers, redirects, escaping ----------------------------------------------------------------


def test_security_headers_on_every_kind_of_console_response(
    sqlite_console_env: ConsoleEnv,
) -> None:
    client = sqlite_console_env.client
    responses = [client.get("/console/login"), client.get("/console"),
                 client.get("/console/no-such-page"), client.get("/console/static/console.css"),
                 client.get("/console/static/console.js")]
    login(client, "caseworker_a")
    responses.append(client.get("/console"))
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.url, name)
    assert "'unsafe-inline'" not in SECURITY_HEADERS["Content-Security-Policy"]
    assert "Content-Security-Policy" not in client.get("/healthz").headers


def test_pages_have_no_inline_script_or_style(sqlite_console_env: ConsoleEnv) -> None:
    client = sqlite_console_env.client
    pages = [client.get("/console/login").text]
    login(client, "admin")
    pages.append(client.get("/console").text)
    for html in pages:
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert "<style" not in html and "style=" not in html and " on" + "click=" not in html


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/console", "/\\evil.example", "\\\\evil.example",
    "/console/../api/v1/caps", "/console/%2e%2e/api/v1/caps", "/api/v1/caps",
    "javascript:alert(1)", "/%2Fevil.example", "/console//evil.example", "/console/login",
    "http:/console", " /console", "/console\r\nSet-Cookie: x=y",
])
def test_next_may_only_point_inside_the_console(
    sqlite_console_env: ConsoleEnv, target: str,
) -> None:
    assert safe_next(target) is None
    client = sqlite_console_env.client
    form = client.get("/console/login", params={"next": target})
    assert 'name="next" value=""' in form.text
    response = client.post("/console/login", data={
        "username": "admin", "password": PASSWORD, "csrf_token": csrf_token(client),
        "next": target})
    assert response.status_code == 303 and response.headers["location"] == "/console"


def test_next_inside_the_console_is_followed(sqlite_console_env: ConsoleEnv) -> None:
    client = sqlite_console_env.client
    first = client.get("/console/cards?q=48213")
    assert first.status_code in {303, 404}
    target = "/console/cards?q=48213"
    response = client.post("/console/login", data={
        "username": "admin", "password": PASSWORD, "csrf_token": csrf_token(client),
        "next": target})
    assert response.headers["location"] == target
    # Already logged in: the login page sends you on.
    again = client.get("/console/login", params={"next": "/console"})
    assert again.status_code == 303 and again.headers["location"] == "/console"


def test_templates_escape_names(console_env: ConsoleEnv) -> None:
    console_env.ledger.staff.add_user("mallory", PASSWORD, "admin", None,
                                      '<script>alert("x")</script> & Co')
    client = login(console_env.new_client(), "mallory")
    home = client.get("/console").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in home
    assert "<script>alert" not in home
    status, text = attempt(console_env.new_client(), '<img src=x onerror="y">', "forkert-1234")
    assert status == 401 and "<img src=x" not in text and "&lt;img src=x" in text
