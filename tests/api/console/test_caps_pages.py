"""Loftbeløb through the real app: an administrator sets a year's cap with its source through
the ledger's SetCap; a cap below what is counted, an unclear amount or a source that is not a
web address is refused in Danish with nothing changed; demo caps say so; others get 403."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable

import httpx
import pytest

from ledger import SetCap
from tests.api.console.conftest import ConsoleEnv, login, post_form
from tests.ledger.support import ADMIN, dump_tables, employer_with_card, wage

SOURCE = "https://www.sm.dk/satser-2026"
FORM = {"year": "2026", "amount": "43.000", "source_url": SOURCE,
        "source_note": "Satser på social- og ældreområdet for 2026"}


def unchanged(env: ConsoleEnv, call: Callable[[], httpx.Response]) -> httpx.Response:
    """The response to `call`, after checking it left every table exactly as it was."""
    before = dump_tables(env.url)
    response = call()
    assert dump_tables(env.url) == before
    return response


def alerts(body: str) -> list[str]:
    return [" ".join(html.unescape(m).split())
            for m in re.findall(r'class="alert alert-\w+"[^>]*>(.*?)</p>', body, re.S)]


def cap_row(body: str, year: int) -> str:
    found = re.search(rf'<th scope="row">{year}</th>(.*?)</tr>', body, re.S)
    assert found, f"no row for {year}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def caps(env: ConsoleEnv) -> dict[int, tuple[int, str, bool, str | None]]:
    return {c.year: (c.amount_ore, c.source, c.is_demo, c.set_by) for c in env.ledger.caps()}


@pytest.mark.parametrize("typed", ["43.000", "43000,00", "43 000 kr.", "43.000,0"])
def test_the_admin_sets_a_cap_with_its_source(console_env: ConsoleEnv, typed: str) -> None:
    client = login(console_env.client, "admin")
    response = post_form(client, "/console/caps", {**FORM, "amount": typed})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/caps?besked=cap_set&year=2026&released=0"
    assert caps(console_env)[2026] == (
        43_000_00, f"Satser på social- og ældreområdet for 2026; {SOURCE}", False,
        "console:admin")
    page = client.get(response.headers["location"])
    assert alerts(page.text) == ["Beløbsgrænsen for 2026 er gemt."]
    row = cap_row(page.text, 2026)
    assert row == ("43.000,00 kr. Satser på social- og ældreområdet for 2026 "
                   f"{SOURCE} Dorte Admin (admin) 16.06.2025 kl. 14.00")
    assert f'<a href="{SOURCE}" rel="noreferrer noopener"' in page.text
    assert "Demoværdi" not in row
    assert cap_row(page.text, 2025).startswith("42.766,00 kr. Lov nr. 616")
    assert "Kildelisten (db/data/caps.yml)" in cap_row(page.text, 2025)


def test_reports_waiting_for_the_cap_are_counted_when_it_is_set(
        console_env: ConsoleEnv) -> None:
    ledger = console_env.ledger
    cvr, (number,) = employer_with_card(ledger, seed=7)
    console_env.clock.now = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)
    waiting = ledger.report_wage(wage(cvr, number, 1_000_00, "k-2026", post=True,
                                      paid_on=dt.date(2026, 1, 10)), actor=ADMIN)
    assert waiting.status == "awaiting_cap"
    client = login(console_env.client, "admin")
    response = post_form(client, "/console/caps", FORM)
    assert response.headers["location"].endswith("released=1")
    page = client.get(response.headers["location"])
    assert alerts(page.text) == [
        "Beløbsgrænsen for 2026 er gemt. 1 indberetning(er), der ventede på årets grænse, "
        "er nu talt med."]
    assert ledger.report(waiting.id).status == "posted"


def test_a_cap_below_what_is_already_counted_is_refused(console_env: ConsoleEnv) -> None:
    cvr, (number,) = employer_with_card(console_env.ledger, seed=8)
    console_env.ledger.report_wage(wage(cvr, number, 1_500_00, "k1", post=True), actor=ADMIN)
    client = login(console_env.client, "admin")
    response = unchanged(console_env, lambda: post_form(client, "/console/caps", {
        **FORM, "year": "2025", "amount": "1.000"}))
    assert response.status_code == 409
    assert alerts(response.text) == [
        "Beløbsgrænsen kan ikke sættes lavere end det, der allerede er tjent på et frikort "
        "(1.500 kr.)."]
    # What was typed is kept, so it can be corrected.
    assert 'value="1.000"' in response.text and f'value="{SOURCE}"' in response.text


NOT_WEB = "Kilden skal være en webadresse, der begynder med https:// eller http://."


@pytest.mark.parametrize(("field", "value", "message"), [
    ("source_url", "", "Skriv adressen på kilden til beløbet, fx en side på retsinformation.dk."),
    ("source_url", "ftp://example.dk/satser", NOT_WEB),
    ("source_url", "javascript:alert(1)", NOT_WEB),
    ("source_url", "https://", NOT_WEB),
    ("source_url", "www.sm.dk/satser", NOT_WEB),
    ("source_url", "https://sm.dk/a b", NOT_WEB),
    ("source_note", "x" * 1990, "Kilden må højst fylde 2000 tegn."),
    ("amount", "", "Skriv beløbet i kroner, fx 1.250,50."),
    ("amount", "43000.00", "Beløbet kan ikke læses entydigt."),
    ("amount", "43,000", "Beløbet kan ikke læses entydigt."),
    ("amount", "4.30", "Beløbet kan ikke læses entydigt."),
    ("amount", "-43000", "Beløbet kan ikke læses entydigt."),
    ("amount", "0", "Beløbet skal være mere end 0 kr."),
    ("year", "1999", "Året skal være et helt tal fra 2019 til 2100."),
    ("year", "tyve", "Året skal være et helt tal fra 2019 til 2100."),
])
def test_unclear_input_is_refused_in_danish_with_nothing_changed(
        console_env: ConsoleEnv, field: str, value: str, message: str) -> None:
    client = login(console_env.client, "admin")
    response = unchanged(console_env, lambda: post_form(client, "/console/caps",
                                                        {**FORM, field: value}))
    assert response.status_code == 422
    shown = alerts(response.text)
    assert len(shown) == 1 and shown[0].startswith(message), shown
    assert 2026 not in caps(console_env)


def test_a_demo_cap_is_labelled_until_the_real_one_is_set(console_env: ConsoleEnv) -> None:
    console_env.ledger.set_cap(SetCap(year=2026, amount_ore=42_766_00, source="Demo: 2025-beløb",
                                      is_demo=True), actor=ADMIN)
    client = login(console_env.client, "admin")
    row = cap_row(client.get("/console/caps").text, 2026)
    assert row.startswith("42.766,00 kr. Demoværdi Demo: 2025-beløb")
    assert "Demoværdi" not in cap_row(client.get("/console/caps").text, 2025)
    assert post_form(client, "/console/caps", FORM).status_code == 303
    assert "Demoværdi" not in cap_row(client.get("/console/caps").text, 2026)
    assert caps(console_env)[2026][2] is False


@pytest.mark.parametrize("username", ["caseworker_a", "consultant"])
def test_only_an_administrator_may_see_or_set_caps(console_env: ConsoleEnv,
                                                   username: str) -> None:
    client = login(console_env.client, username)
    assert client.get("/console/caps").status_code == 403
    response = unchanged(console_env, lambda: post_form(client, "/console/caps", FORM))
    assert response.status_code == 403
    assert "Ingen adgang" in response.text
    assert 'href="/console/caps"' not in client.get("/console").text


def test_setting_a_cap_needs_the_csrf_token(console_env: ConsoleEnv) -> None:
    client = login(console_env.client, "admin")
    response = unchanged(console_env, lambda: client.post("/console/caps", data=FORM))
    assert response.status_code == 403
    assert "Formularen er udløbet" in response.text
