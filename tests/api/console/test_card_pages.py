"""The Kort pages through the real app: search (CPR only by POST), one card in full, the
controls due; who may see what (anonymous, roles, municipalities), escaping, no CPR shown."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest

from tests.api.console.card_data import CARD_A, CARD_B, HOLDER_B, browser, build, text_of
from tests.api.console.conftest import ConsoleEnv, csrf_token

CARD_GETS = ["/console/cards", "/console/cards/controls-due", f"/console/cards/{CARD_A}",
             f"/console/cards/{CARD_A}/deactivate"]
CARD_POSTS = ["/console/cards/search", f"/console/cards/{CARD_A}/deactivate",
              f"/console/cards/{CARD_A}/reactivate", f"/console/cards/{CARD_A}/control",
              f"/console/cards/{CARD_A}/transfer", f"/console/cards/{CARD_A}/contacts",
              f"/console/cards/{CARD_A}/contacts/1/unlink", f"/console/cards/{CARD_A}/link-code",
              f"/console/cards/{CARD_A}/reports", "/console/reports/1/reverse"]
ESCAPED_HOLDER = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Jens Hansen"


# Who may come in -----------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login_or_refused(console_env: ConsoleEnv) -> None:
    build(console_env)
    anonymous = console_env.new_client()
    for path in CARD_GETS:
        page = anonymous.get(path)
        assert page.status_code == 303, path
        assert page.headers["location"] == f"/console/login?next={quote(path, safe='')}"
    token = csrf_token(anonymous)
    for path in CARD_POSTS:
        assert anonymous.post(path, data={"csrf_token": token}).status_code == 401, path
    assert console_env.ledger.card(CARD_A).status == "active"


def test_an_employer_consultant_may_not_use_the_card_pages(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    consultant = browser(console_env, "consultant")
    for path in CARD_GETS:
        page = consultant.get(path)
        assert page.status_code == 403 and "Ingen adgang" in page.text, path
    for path in CARD_POSTS:
        answer = consultant.post(path, {"reason": "Forsøg", "bekraeftet": "ja", "q": "Jens"})
        assert answer.status_code == 403, path
    assert console_env.ledger.card(CARD_A).status == "active"
    assert console_env.ledger.report(world.report_a).status == "posted"


@pytest.mark.parametrize("path", [f"/console/cards/{CARD_B}", f"/console/cards/{CARD_B}/deactivate",
                                  "/console/cards/99999", "/console/cards/abc"])
def test_cards_of_another_municipality_are_not_found(console_env: ConsoleEnv, path: str) -> None:
    build(console_env)
    page = browser(console_env, "caseworker_a").get(path)
    assert page.status_code == 404
    assert "Siden findes ikke" in page.text and HOLDER_B not in page.text
    assert CARD_B not in text_of(page.text)


def test_an_administrator_sees_every_municipality(console_env: ConsoleEnv) -> None:
    build(console_env)
    admin = browser(console_env, "admin")
    assert admin.get(f"/console/cards/{CARD_A}").status_code == 200
    page = admin.get(f"/console/cards/{CARD_B}")
    assert page.status_code == 200 and HOLDER_B in page.text and "København (101)" in page.text
    found = admin.post("/console/cards/search", {"q": "e"})
    assert CARD_A in found.text and CARD_B in found.text


# One card -----------------------------------------------------------------------------------


def test_the_card_page_shows_everything_a_caseworker_needs(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    page = caseworker.get(f"/console/cards/{CARD_A}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert f"Frikort {CARD_A}" in text and "Aktivt" in text
    assert f"{world.cpr_a[:6]}-xxxx" in text
    assert "Aarhus (751)" in text and "Gyldig fra 01.01.2025" in text
    # 2025: cap 42.766 kr., 600 kr. earned, nothing reserved, 42.166 kr. left.
    row = re.search(r"<th scope=\"row\">2025</th>(.*?)</tr>", page.text, re.S)
    assert row, "no balance row for 2025"
    cells = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]
    assert cells[:4] == ["42.766,00 kr.", "600,00 kr.", "0,00 kr.", "42.166,00 kr."]
    assert "13.06.2025" in text and "Bogført" in text and "Café Solsikken ApS" in text
    assert "Telefon +45 xx xx xx 50" in text and "20304050" not in page.text
    assert "Udstedt" in text and "test-admin" in text  # the status history
    assert "Næste kontrol senest 31.12.2027" in text
    assert 'href="/console/cards/11111/deactivate"' in page.text
    caseworker.assert_never_shown(world.cpr_a, world.cpr_b)


def test_names_are_escaped_everywhere(console_env: ConsoleEnv) -> None:
    build(console_env)
    console_env.clock.now = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)
    caseworker = browser(console_env, "caseworker_a")
    pages = [caseworker.get(f"/console/cards/{CARD_A}"),
             caseworker.get(f"/console/cards/{CARD_A}/deactivate"),
             caseworker.get("/console/cards/controls-due"),
             caseworker.post("/console/cards/search", {"q": "jens"})]
    for page in pages:
        assert page.status_code == 200, page.url
        assert ESCAPED_HOLDER in page.text, page.url
        assert '<script>alert("x")' not in page.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
        assert "style=" not in page.text and "<style" not in page.text


# Search --------------------------------------------------------------------------------------


def test_the_search_form_posts_so_no_query_reaches_a_url(console_env: ConsoleEnv) -> None:
    build(console_env)
    page = browser(console_env, "caseworker_a").get("/console/cards")
    assert page.status_code == 200
    form = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*>\s*<input type="hidden" '
                     r'name="csrf_token"[^>]*>\s*<label for="q">', page.text)
    assert form and form.groups() == ("post", "/console/cards/search")


def test_search_by_frikort_id_and_name_stays_in_the_municipality(
    console_env: ConsoleEnv,
) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    by_number = caseworker.post("/console/cards/search", {"q": CARD_A})
    assert by_number.status_code == 303
    assert by_number.headers["location"] == f"/console/cards/{CARD_A}"
    by_name = caseworker.post("/console/cards/search", {"q": "  JENS   hansen "})
    assert by_name.status_code == 200
    assert "1 kort fundet" in text_of(by_name.text)
    assert f'href="/console/cards/{CARD_A}"' in by_name.text
    prefix = caseworker.post("/console/cards/search", {"q": "1"})
    assert f'href="/console/cards/{CARD_A}"' in prefix.text
    assert CARD_B not in prefix.text
    other = caseworker.post("/console/cards/search", {"q": "Bente"})
    assert other.status_code == 200 and "0 kort fundet" in text_of(other.text)
    assert HOLDER_B not in text_of(other.text).replace("»Bente«", "")
    assert CARD_B not in other.text


def test_search_by_cpr_finds_the_card_and_never_shows_the_number(
    console_env: ConsoleEnv,
) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    for typed in (world.cpr_a, f"{world.cpr_a[:6]}-{world.cpr_a[6:]}"):
        found = caseworker.post("/console/cards/search", {"q": typed})
        assert found.status_code == 303
        assert found.headers["location"] == f"/console/cards/{CARD_A}"
        assert world.cpr_a[:6] not in found.headers["location"]
        assert caseworker.get(found.headers["location"]).status_code == 200
    other = caseworker.post("/console/cards/search", {"q": world.cpr_b})
    assert other.status_code == 200
    assert "0 kort fundet for »[CPR]«" in text_of(other.text)
    assert 'name="q" type="search" maxlength="200" required autofocus\n           value=""' in (
        other.text)
    caseworker.assert_never_shown(world.cpr_a, world.cpr_b)


def test_bad_searches_get_a_danish_answer(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    empty = caseworker.post("/console/cards/search", {"q": "   "})
    assert empty.status_code == 422
    assert "Skriv et Frikort-ID, et navn eller et CPR-nummer." in empty.text
    not_a_cpr = caseworker.post("/console/cards/search", {"q": "3213991234"})
    assert not_a_cpr.status_code == 422
    assert "CPR-nummeret er ikke gyldigt" in not_a_cpr.text


# Controls due -------------------------------------------------------------------------------


def test_controls_due_lists_the_cards_of_this_year_and_the_overdue(
    console_env: ConsoleEnv,
) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    assert "Ingen kort skal kontrolleres i år." in caseworker.get(
        "/console/cards/controls-due").text
    console_env.clock.now = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)
    due = caseworker.get("/console/cards/controls-due")
    assert due.status_code == 200
    assert f'href="/console/cards/{CARD_A}"' in due.text and CARD_B not in due.text
    assert "Skal kontrolleres i år" in due.text and "31.12.2027" in due.text
    console_env.clock.now = dt.datetime(2028, 1, 2, 12, tzinfo=dt.UTC)
    overdue = caseworker.get("/console/cards/controls-due")
    assert "Overskredet" in overdue.text and 'class="urgent"' in overdue.text
    assert CARD_B in browser(console_env, "caseworker_b").get(
        "/console/cards/controls-due").text


def test_a_control_from_the_list_takes_the_card_off_it(console_env: ConsoleEnv) -> None:
    build(console_env)
    console_env.clock.now = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)
    caseworker = browser(console_env, "caseworker_a")
    done = caseworker.post(f"/console/cards/{CARD_A}/control", {"tilbage": "kontrol"})
    assert done.status_code == 303
    assert done.headers["location"] == "/console/cards/controls-due?besked=controlled#main"
    after = caseworker.get(done.headers["location"])
    assert "Kontrollen er registreret med dags dato." in after.text
    assert f'href="/console/cards/{CARD_A}"' not in after.text
    assert console_env.ledger.card(CARD_A).last_control_on == dt.date(2027, 3, 1)


def test_an_unknown_flash_key_shows_nothing(console_env: ConsoleEnv) -> None:
    build(console_env)
    page = browser(console_env, "caseworker_a").get(
        f"/console/cards/{CARD_A}?besked=%3Cb%3Ehej%3C/b%3E")
    assert page.status_code == 200 and "hej" not in page.text and 'role="status"' not in page.text
