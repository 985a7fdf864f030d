"""Brugere through the real app: an administrator creates and deactivates console accounts
through ledger.staff; refusals are Danish and change nothing; a deactivated user is logged
out at once and can no longer log in; nobody else may use the page."""

from __future__ import annotations

import re

import pytest

from tests.api.console.conftest import PASSWORD, ConsoleEnv, csrf_token, login, post_form
from tests.api.console.test_caps_pages import alerts, unchanged
from tests.ledger.support import audit_rows

NEW_PASSWORD = "ny-bruger-adgang-42"
FORM = {"username": "Lise.Lund", "display_name": "Lise Lund", "role": "caseworker",
        "municipality_code": "101", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}


def user_row(body: str, username: str) -> str:
    found = re.search(rf'<th scope="row">{re.escape(username)}</th>(.*?)</tr>', body, re.S)
    assert found, f"no row for {username}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_the_admin_creates_a_user_who_can_then_log_in(console_env: ConsoleEnv) -> None:
    client = login(console_env.client, "admin")
    response = post_form(client, "/console/users", FORM)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert alerts(page.text) == [
        "Brugeren er oprettet. Giv personen adgangskoden på en sikker måde."]
    assert user_row(page.text, "lise.lund").startswith(
        "Lise Lund Sagsbehandler København (101) Aktiv –")
    account = next(a for a in console_env.ledger.staff.list_users() if a.username == "lise.lund")
    assert (account.role, account.municipality_code, account.active) == ("caseworker", "101", True)
    assert NEW_PASSWORD not in page.text
    new = login(console_env.new_client(), "lise.lund", NEW_PASSWORD)
    assert "Lise Lund" in new.get("/console").text
    audit = [row for row in audit_rows(console_env.url) if row["action"] == "staff_user_added"]
    assert audit[-1]["actor"] == "console:admin"


def test_an_admin_account_gets_no_municipality(console_env: ConsoleEnv) -> None:
    client = login(console_env.client, "admin")
    form = {**FORM, "username": "chef", "role": "admin", "municipality_code": "751"}
    assert post_form(client, "/console/users", form).status_code == 303
    account = next(a for a in console_env.ledger.staff.list_users() if a.username == "chef")
    assert (account.role, account.municipality_code) == ("admin", None)


@pytest.mark.parametrize(("changes", "status", "message"), [
    ({"username": "caseworker_a"}, 409, "Brugernavnet caseworker_a er allerede i brug."),
    ({"username": "CASEWORKER_A "}, 409, "Brugernavnet caseworker_a er allerede i brug."),
    ({"password_again": NEW_PASSWORD + "x"}, 422,
     "De to adgangskoder er ikke ens. Skriv den samme adgangskode i begge felter."),
    ({"password": "qz7-kun", "password_again": "qz7-kun"}, 422,
     "Adgangskoden skal have mindst 10"),
    ({"municipality_code": ""}, 422,
     "En sagsbehandler, virksomhedskonsulent eller hjælper skal høre til en kommune."),
    ({"municipality_code": "999"}, 422, "Kommunekoden 999 findes ikke."),
    ({"username": "x"}, 422, "Brugernavnet kan ikke bruges."),
    ({"username": "lise lund"}, 422, "Brugernavnet kan ikke bruges."),
    ({"display_name": "  "}, 422, ""),
    ({"role": "superuser"}, 422, ""),
])
def test_refusals_are_danish_keep_no_password_and_change_nothing(
        console_env: ConsoleEnv, changes: dict[str, str], status: int, message: str) -> None:
    client = login(console_env.client, "admin")
    form = {**FORM, **changes}
    response = unchanged(console_env, lambda: post_form(client, "/console/users", form))
    assert response.status_code == status
    shown = alerts(response.text)
    assert len(shown) == 1 and shown[0] and shown[0].startswith(message), shown
    assert form["password"] not in response.text
    if changes.get("username", "").strip() not in {"caseworker_a", "CASEWORKER_A"}:
        assert f'value="{form["username"]}"' in response.text  # kept, to be corrected


def test_a_deactivated_user_is_logged_out_and_cannot_log_in(console_env: ConsoleEnv) -> None:
    victim = login(console_env.new_client(), "caseworker_b")
    assert victim.get("/console").status_code == 200
    client = login(console_env.client, "admin")
    user_id = console_env.users["caseworker_b"].id
    response = post_form(client, f"/console/users/{user_id}/deactivate")
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert alerts(page.text) == ["Brugeren er deaktiveret og er logget ud alle steder."]
    assert "Deaktiveret" in user_row(page.text, "caseworker_b")
    assert f'action="/console/users/{user_id}/deactivate"' not in page.text
    assert victim.get("/console").status_code == 303
    again = console_env.new_client()
    refused = again.post("/console/login", data={
        "username": "caseworker_b", "password": PASSWORD, "csrf_token": csrf_token(again)})
    assert refused.status_code == 401
    assert "Forkert brugernavn eller adgangskode." in refused.text


def test_nobody_deactivates_themselves_and_unknown_users_are_404(
        console_env: ConsoleEnv) -> None:
    client = login(console_env.client, "admin")
    me = console_env.users["admin"].id
    response = unchanged(console_env, lambda: post_form(
        client, f"/console/users/{me}/deactivate"))
    assert response.status_code == 409
    assert alerts(response.text) == [
        "Du kan ikke deaktivere din egen bruger. Bed en anden administrator om det."]
    missing = unchanged(console_env, lambda: post_form(client, "/console/users/9999/deactivate"))
    assert missing.status_code == 404
    assert unchanged(console_env, lambda: post_form(
        client, "/console/users/abc/deactivate")).status_code == 422


@pytest.mark.parametrize("username", ["caseworker_a", "consultant"])
def test_only_an_administrator_may_manage_users(console_env: ConsoleEnv, username: str) -> None:
    client = login(console_env.client, username)
    assert client.get("/console/users").status_code == 403
    other = console_env.users["admin"].id
    for path, form in (("/console/users", FORM), (f"/console/users/{other}/deactivate", {})):
        response = unchanged(console_env, lambda p=path, f=form: post_form(client, p, f))
        assert response.status_code == 403
    assert 'href="/console/users"' not in client.get("/console").text


def test_user_changes_need_the_csrf_token(console_env: ConsoleEnv) -> None:
    client = login(console_env.client, "admin")
    response = unchanged(console_env, lambda: client.post("/console/users", data=FORM))
    assert response.status_code == 403
