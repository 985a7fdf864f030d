"""The Arbejdsgivere pages through the real app: the list (not yet verified first), one
employer with only the card holders the user may see, and verifying after the CVR check."""

from __future__ import annotations

import re
from urllib.parse import quote

from staff import StaffPrincipal
from tests.api.console.card_data import CARD_A, CARD_B, HOLDER_B, audit, browser, build, text_of
from tests.api.console.conftest import ConsoleEnv, csrf_token
from tests.ledger.support import dump_tables

CHECKED = "Jeg har tjekket CVR-nummeret i CVR-registret"


def _verified(env: ConsoleEnv, cvr: str) -> bool:
    admin: StaffPrincipal = env.users["admin"]
    return env.ledger.casework.employer(admin, cvr).verified


def test_anonymous_users_are_sent_to_login_or_refused(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    anonymous = console_env.new_client()
    for path in ("/console/employers", f"/console/employers/{world.cvr}"):
        page = anonymous.get(path)
        assert page.status_code == 303
        assert page.headers["location"] == f"/console/login?next={quote(path, safe='')}"
    refused = anonymous.post(f"/console/employers/{world.unverified_cvr}/verify",
                             data={"csrf_token": csrf_token(anonymous), "cvr_tjekket": "ja"})
    assert refused.status_code == 401
    assert not _verified(console_env, world.unverified_cvr)


def test_the_list_puts_unverified_employers_first_and_searches(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    for user in ("caseworker_a", "consultant", "admin"):
        page = browser(console_env, user).get("/console/employers")
        assert page.status_code == 200, user
        names = re.findall(r'<a href="/console/employers/\d+">([^<]+)</a>', page.text)
        assert names == ["Havefirmaet Grøn Hånd", "Café Solsikken ApS"], user
        assert "1 arbejdsgiver venter på, at kommunen tjekker CVR-nummeret." in text_of(page.text)
    caseworker = browser(console_env, "caseworker_a")
    by_name = caseworker.get("/console/employers", params={"q": "grøn"})
    assert "Havefirmaet Grøn Hånd" in by_name.text and "Café Solsikken" not in by_name.text
    by_cvr = caseworker.get("/console/employers", params={"q": world.cvr[:5]})
    assert "Café Solsikken ApS" in by_cvr.text and "Grøn Hånd" not in by_cvr.text
    by_contact = caseworker.get("/console/employers", params={"q": "lone"})
    assert "Café Solsikken ApS" in by_contact.text
    nothing = caseworker.get("/console/employers", params={"q": "<b>x</b>"})
    assert "Ingen arbejdsgivere passer på søgningen." in nothing.text
    assert "<b>x</b>" not in nothing.text and "&lt;b&gt;x&lt;/b&gt;" in nothing.text


def test_employment_counts_are_per_municipality(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    row = rf'href="/console/employers/{world.cvr}">Café Solsikken ApS</a>.*?<td class="num">(\d+)'
    for user, count in (("caseworker_a", "1"), ("caseworker_b", "1"), ("admin", "2")):
        page = browser(console_env, user).get("/console/employers").text
        found = re.search(row, page, re.S)
        assert found and found.group(1) == count, user


def test_one_employer_shows_contact_and_only_the_users_card_holders(
    console_env: ConsoleEnv,
) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    page = caseworker.get(f"/console/employers/{world.cvr}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Kontaktperson Lone Berg" in text and "Telefon: +45 xx xx xx 64" in text
    assert "31425364" not in page.text
    assert f'href="/console/cards/{CARD_A}"' in page.text and "600,00 kr." in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Jens Hansen" in page.text
    assert '<script>alert("x")' not in page.text
    assert CARD_B not in page.text and HOLDER_B not in page.text and "900,00" not in text
    assert 'action="/console/employers/' not in page.text  # verified: no verify form
    other = browser(console_env, "caseworker_b").get(f"/console/employers/{world.cvr}").text
    assert CARD_B in other and HOLDER_B in other and CARD_A not in other
    admin = browser(console_env, "admin").get(f"/console/employers/{world.cvr}").text
    assert CARD_A in admin and CARD_B in admin
    caseworker.assert_never_shown(world.cpr_a, world.cpr_b)


def test_a_consultant_sees_card_numbers_without_links(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    page = browser(console_env, "consultant").get(f"/console/employers/{world.cvr}")
    assert page.status_code == 200
    assert CARD_A in page.text and 'href="/console/cards/' not in page.text


def test_an_unknown_or_malformed_cvr(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    missing = caseworker.get("/console/employers/31425360")
    assert missing.status_code == 404 and "Siden findes ikke" in missing.text
    malformed = caseworker.get("/console/employers/abc")
    assert malformed.status_code == 422 and "CVR-nummeret er ikke gyldigt" in malformed.text
    verify_missing = caseworker.post("/console/employers/31425360/verify", {"cvr_tjekket": "ja"})
    assert verify_missing.status_code == 404


def test_verifying_needs_the_ticked_box(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    page = caseworker.get(f"/console/employers/{world.unverified_cvr}")
    assert CHECKED in page.text and 'name="cvr_tjekket" value="ja" required' in page.text
    before = dump_tables(console_env.url)
    for ticked in ("", "nej", "on"):
        refused = caseworker.post(f"/console/employers/{world.unverified_cvr}/verify",
                                  {"cvr_tjekket": ticked, "note": "Set i CVR"})
        assert refused.status_code == 422
        assert f"Sæt flueben i »{CHECKED}«" in refused.text
        assert ">Set i CVR</textarea>" in refused.text
    assert dump_tables(console_env.url) == before
    assert not _verified(console_env, world.unverified_cvr)


def test_a_consultant_verifies_and_the_log_names_them(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    consultant = browser(console_env, "consultant")
    done = consultant.post(f"/console/employers/{world.unverified_cvr}/verify",
                           {"cvr_tjekket": "ja", "note": "Aktiv virksomhed i CVR"})
    assert done.status_code == 303
    page_url = f"/console/employers/{world.unverified_cvr}?besked=verified#main"
    assert done.headers["location"] == page_url
    assert _verified(console_env, world.unverified_cvr)
    assert [r["actor"] for r in audit(console_env.url, "employer.verify")] == [
        "test-admin", "console:consultant"]
    checked = audit(console_env.url, "employer.checked")
    assert [r["actor"] for r in checked] == ["console:consultant"]
    page = text_of(consultant.get(done.headers["location"]).text)
    assert "Arbejdsgiveren er godkendt." in page and "Godkendt 16.06.2025" in page
    assert CHECKED not in page  # the form is gone once verified


def test_a_note_with_a_cpr_number_is_refused(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    refused = caseworker.post(f"/console/employers/{world.unverified_cvr}/verify",
                              {"cvr_tjekket": "ja", "note": f"Ejer har CPR {world.cpr_a}"})
    assert refused.status_code == 422 and "Skriv ikke CPR-numre" in refused.text
    assert "[CPR]" in refused.text
    assert not _verified(console_env, world.unverified_cvr)
    caseworker.assert_never_shown(world.cpr_a)


def test_verifying_needs_the_csrf_token(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    client = browser(console_env, "caseworker_a").client
    refused = client.post(f"/console/employers/{world.unverified_cvr}/verify",
                          data={"cvr_tjekket": "ja", "csrf_token": "forkert"})
    assert refused.status_code == 403 and "Formularen er udløbet" in refused.text
    assert not _verified(console_env, world.unverified_cvr)
