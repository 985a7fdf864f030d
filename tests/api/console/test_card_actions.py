"""The card actions through the real app: each changes what it should in the ledger, with the
caseworker as actor in the audit log; refusals (bad input, other municipalities, no CSRF
token) change nothing and say why in Danish."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
import sqlalchemy as sa

from db.conversation_tables import LinkCode
from tests.api.console.card_data import CARD_A, CARD_B, audit, browser, build, text_of
from tests.api.console.conftest import ConsoleEnv
from tests.ledger.support import TODAY, dump_tables, raw_engine

ACTOR_A = "console:caseworker_a"


def _actors(env: ConsoleEnv, action: str) -> list[object]:
    return [row["actor"] for row in audit(env.url, action)]


# Deactivate and reactivate -------------------------------------------------------------------


def test_deactivation_needs_the_confirmation_step_and_a_reason(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    confirm = caseworker.get(f"/console/cards/{CARD_A}/deactivate")
    assert confirm.status_code == 200
    assert "Deaktivér frikort 11111?" in confirm.text and 'name="bekraeftet" value="ja"' in (
        confirm.text)
    unconfirmed = caseworker.post(f"/console/cards/{CARD_A}/deactivate", {"reason": "Flyttet"})
    assert unconfirmed.status_code == 422 and "Bekræft deaktiveringen" in unconfirmed.text
    assert ">Flyttet</textarea>" in unconfirmed.text
    no_reason = caseworker.post(f"/console/cards/{CARD_A}/deactivate",
                                {"reason": "  ", "bekraeftet": "ja"})
    assert no_reason.status_code == 422 and "Skriv en begrundelse." in no_reason.text
    assert console_env.ledger.card(CARD_A).status == "active"
    assert _actors(console_env, "card.deactivated") == []


def test_deactivate_then_reactivate_with_the_caseworker_as_actor(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    done = caseworker.post(f"/console/cards/{CARD_A}/deactivate",
                           {"reason": "Opfylder ikke betingelserne", "bekraeftet": "ja"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/cards/{CARD_A}?besked=deactivated#main"
    assert console_env.ledger.card(CARD_A).status == "deactivated"
    assert _actors(console_env, "card.deactivated") == [ACTOR_A]
    page = text_of(caseworker.get(done.headers["location"]).text)
    assert "Kortet er deaktiveret fra i dag." in page and "Deaktiveret" in page
    assert "Opfylder ikke betingelserne" in page  # the reason in the status history
    twice = caseworker.post(f"/console/cards/{CARD_A}/deactivate",
                            {"reason": "Igen", "bekraeftet": "ja"})
    assert twice.status_code == 409 and "er allerede deaktiveret" in twice.text
    again = caseworker.post(f"/console/cards/{CARD_A}/reactivate", {"reason": "Fejl rettet"})
    assert again.status_code == 303
    assert console_env.ledger.card(CARD_A).status == "active"
    assert _actors(console_env, "card.reactivated") == [ACTOR_A]


def test_reactivation_without_a_reason_is_refused(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    stale = caseworker.post(f"/console/cards/{CARD_A}/reactivate", {"reason": "Gammel side"})
    assert stale.status_code == 409  # the form is not on the page of an active card: on top
    assert re.search(r'<p class="alert alert-error" role="alert">Frikort 11111 er allerede '
                     r'aktivt', stale.text)
    caseworker.post(f"/console/cards/{CARD_A}/deactivate", {"reason": "X", "bekraeftet": "ja"})
    refused = caseworker.post(f"/console/cards/{CARD_A}/reactivate", {"reason": ""})
    assert refused.status_code == 422 and "Skriv en begrundelse." in refused.text
    assert console_env.ledger.card(CARD_A).status == "deactivated"


# Control, transfer ----------------------------------------------------------------------------


def test_record_control_with_a_note(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    done = caseworker.post(f"/console/cards/{CARD_A}/control", {"note": "Samtale i dag"})
    assert done.headers["location"] == f"/console/cards/{CARD_A}?besked=controlled#main"
    assert console_env.ledger.card(CARD_A).last_control_on == TODAY
    assert _actors(console_env, "card.control") == [ACTOR_A]
    assert _actors(console_env, "card.control.note") == [ACTOR_A]
    page = text_of(caseworker.get(done.headers["location"]).text)
    assert "Sidst kontrolleret 16.06.2025" in page and "Næste kontrol senest 31.12.2027" in page
    with_cpr = caseworker.post(f"/console/cards/{CARD_A}/control",
                               {"note": "CPR 0101801234 tjekket"})
    assert with_cpr.status_code == 422 and "Skriv ikke CPR-numre" in with_cpr.text
    assert ">CPR [CPR] tjekket</textarea>" in with_cpr.text and "0101801234" not in with_cpr.text
    assert len(audit(console_env.url, "card.control")) == 1


def test_transfer_moves_the_card_out_of_sight(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    page = caseworker.get(f"/console/cards/{CARD_A}").text
    options = re.findall(r'<option value="(\d+)"', page.split('name="municipality_code"')[1]
                         .split("</select>")[0])
    assert len(options) == 97 and "751" not in options and "101" in options
    bad = caseworker.post(f"/console/cards/{CARD_A}/transfer",
                          {"municipality_code": "999", "reason": "Flyttet"})
    assert bad.status_code == 422 and "Kommunekoden 999 findes ikke." in bad.text
    no_reason = caseworker.post(f"/console/cards/{CARD_A}/transfer",
                                {"municipality_code": "101", "reason": ""})
    assert no_reason.status_code == 422 and "Skriv en begrundelse." in no_reason.text
    assert console_env.ledger.card(CARD_A).municipality_code == "751"
    done = caseworker.post(f"/console/cards/{CARD_A}/transfer",
                           {"municipality_code": "101", "reason": "Borgeren er flyttet"})
    assert done.status_code == 303
    assert done.headers["location"] == "/console/cards?besked=transferred#main"
    assert console_env.ledger.card(CARD_A).municipality_code == "101"
    assert _actors(console_env, "card.transfer") == [ACTOR_A]
    assert caseworker.get(f"/console/cards/{CARD_A}").status_code == 404
    assert browser(console_env, "caseworker_b").get(f"/console/cards/{CARD_A}").status_code == 200


# Phones and Telegram, link codes ----------------------------------------------------------------


def test_link_and_unlink_a_phone_shown_masked(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    done = caseworker.post(f"/console/cards/{CARD_A}/contacts",
                           {"channel": "phone", "address": "21 43 65 87"})
    assert done.headers["location"] == f"/console/cards/{CARD_A}?besked=contact_linked#main"
    page = caseworker.get(done.headers["location"]).text
    assert "+45 xx xx xx 87" in page and "21436587" not in page and "21 43 65 87" not in page
    assert _actors(console_env, "contact.link") == [ACTOR_A]
    telegram = caseworker.post(f"/console/cards/{CARD_A}/contacts",
                               {"channel": "telegram", "address": "987654321"})
    assert telegram.status_code == 303
    bad = caseworker.post(f"/console/cards/{CARD_A}/contacts",
                          {"channel": "telegram", "address": "@jens"})
    assert bad.status_code == 422 and "Vælg telefon eller Telegram" in bad.text
    assert 'value="@jens"' in bad.text  # kept for correcting
    ids = re.findall(r"/contacts/(\d+)/unlink", caseworker.get(f"/console/cards/{CARD_A}").text)
    assert len(ids) == 3
    gone = caseworker.post(f"/console/cards/{CARD_A}/contacts/{ids[1]}/unlink")
    assert gone.headers["location"] == f"/console/cards/{CARD_A}?besked=contact_unlinked#main"
    assert "+45 xx xx xx 87" not in caseworker.get(f"/console/cards/{CARD_A}").text
    assert _actors(console_env, "contact.unlink") == [ACTOR_A]


def test_a_contact_of_another_card_cannot_be_unlinked(console_env: ConsoleEnv) -> None:
    build(console_env)
    admin = browser(console_env, "admin")
    admin.post(f"/console/cards/{CARD_B}/contacts", {"channel": "phone", "address": "22334455"})
    [b_contact] = re.findall(r"/contacts/(\d+)/unlink", admin.get(f"/console/cards/{CARD_B}").text)
    caseworker = browser(console_env, "caseworker_a")
    for card in (CARD_A, CARD_B):
        answer = caseworker.post(f"/console/cards/{card}/contacts/{b_contact}/unlink")
        assert answer.status_code == 404, card
    assert "+45 xx xx xx 55" in admin.get(f"/console/cards/{CARD_B}").text


def _stored_code_hash(url: str, number: str) -> str:
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            table = LinkCode.__table__
            return str(conn.scalar(sa.select(table.c.code_hash).order_by(table.c.created_at.desc())
                                   .limit(1)))
    finally:
        engine.dispose()


def test_a_new_link_code_is_shown_once_and_is_the_stored_one(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    console_env.clock.advance(minutes=5)
    shown = caseworker.post(f"/console/cards/{CARD_A}/link-code")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    match = re.search(r"Linkkode: <strong>(\d{4})</strong>", shown.text)
    assert match, "no link code on the page"
    code = match.group(1)
    assert f"LINK {CARD_A} {code}" in shown.text
    expected = hmac.new(b"test-hash-key", f"link:{CARD_A}:{code}".encode(),
                        hashlib.sha256).hexdigest()
    assert _stored_code_hash(console_env.url, CARD_A) == expected
    assert _actors(console_env, "card.link_code") == [ACTOR_A]
    page = caseworker.get(f"/console/cards/{CARD_A}").text
    assert f"Linkkode: <strong>{code}" not in page and "16.06.2025 kl. 14.05" in page


# Reversal ---------------------------------------------------------------------------------------


def test_reverse_a_report_with_a_reason(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    path = f"/console/reports/{world.report_a}/reverse"
    refused = caseworker.post(path, {"reason": "", "card": CARD_A})
    assert refused.status_code == 422 and "Skriv en begrundelse." in refused.text
    assert re.search(rf"<details id=\"tilbagefoer-{world.report_a}\" open>", refused.text)
    assert console_env.ledger.balance(CARD_A, 2025).posted_ore == 600_00
    done = caseworker.post(path, {"reason": "Forkert beløb", "card": CARD_A})
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/cards/{CARD_A}?besked=reversed#main"
    assert console_env.ledger.report(world.report_a).status == "reversed"
    assert console_env.ledger.balance(CARD_A, 2025).posted_ore == 0
    assert _actors(console_env, "wage_report.reverse") == [ACTOR_A]
    page = text_of(caseworker.get(done.headers["location"]).text)
    assert "Tilbageført" in page and "42.766,00 kr." in page
    twice = caseworker.post(path, {"reason": "Igen", "card": CARD_A})
    assert twice.status_code == 409 and "allerede tilbageført" in twice.text


def test_reports_of_another_municipality_cannot_be_reversed(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    before = dump_tables(console_env.url)
    for report_id, card in ((world.report_b, CARD_A), (world.report_b, CARD_B),
                            (world.report_b, ""), (9999, CARD_A)):
        answer = caseworker.post(f"/console/reports/{report_id}/reverse",
                                 {"reason": "Gæt", "card": card})
        assert answer.status_code == 404, (report_id, card)
        assert "Siden findes ikke" in answer.text and "900,00" not in answer.text
    assert dump_tables(console_env.url) == before
    assert console_env.ledger.report(world.report_b).status == "posted"


def test_actions_on_another_municipalitys_card_are_not_found(console_env: ConsoleEnv) -> None:
    build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    before = dump_tables(console_env.url)
    for action, data in (("deactivate", {"reason": "x", "bekraeftet": "ja"}),
                         ("reactivate", {"reason": "x"}), ("control", {}),
                         ("transfer", {"municipality_code": "751", "reason": "x"}),
                         ("contacts", {"channel": "phone", "address": "20000000"}),
                         ("link-code", {}),
                         ("reports", {"cvr": "12345678", "amount": "100", "hours": "1",
                                      "paid_on": "2025-06-16"})):
        answer = caseworker.post(f"/console/cards/{CARD_B}/{action}", data)
        assert answer.status_code == 404, action
        assert "Linkkode" not in answer.text
    assert dump_tables(console_env.url) == before


def test_actions_need_the_csrf_token(console_env: ConsoleEnv) -> None:
    build(console_env)
    client = browser(console_env, "caseworker_a").client
    for path, data in ((f"/console/cards/{CARD_A}/deactivate", {"reason": "x", "bekraeftet": "ja"}),
                       (f"/console/cards/{CARD_A}/link-code", {}),
                       ("/console/reports/1/reverse", {"reason": "x"})):
        refused = client.post(path, data={**data, "csrf_token": "forkert"})
        assert refused.status_code == 403 and "Formularen er udløbet" in refused.text
    assert console_env.ledger.card(CARD_A).status == "active"
    assert console_env.ledger.report(1).status == "posted"


def test_an_administrator_acts_in_any_municipality(console_env: ConsoleEnv) -> None:
    build(console_env)
    admin = browser(console_env, "admin")
    assert admin.post(f"/console/cards/{CARD_B}/deactivate",
                      {"reason": "Flyttet til udlandet", "bekraeftet": "ja"}).status_code == 303
    assert console_env.ledger.card(CARD_B).status == "deactivated"
    assert _actors(console_env, "card.deactivated") == ["console:admin"]



# A report posted on the employer's behalf ---------------------------------------------------------


def _report_form(cvr: str, amount: str, **extra: str) -> dict[str, str]:
    return {"cvr": cvr, "amount": amount, "hours": "4", "paid_on": "2025-06-16", "note": "",
            **extra}


@pytest.mark.parametrize(("typed", "ore"), [("1.250,50", 125_050), ("1250,5", 125_050),
                                            ("1 250,50 kr.", 125_050), ("1250", 125_000),
                                            ("12.500", 1_250_000), ("0,75", 75)])
def test_post_on_behalf_reads_danish_amounts(console_env: ConsoleEnv, typed: str,
                                             ore: int) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    done = caseworker.post(f"/console/cards/{CARD_A}/reports",
                           _report_form(f"{world.cvr[:4]} {world.cvr[4:]}", typed,
                                        note="Ringede kl. 10"))
    assert done.status_code == 303, text_of(done.text)[:300]
    assert done.headers["location"] == f"/console/cards/{CARD_A}?besked=posted#main"
    assert console_env.ledger.balance(CARD_A, 2025).posted_ore == 600_00 + ore
    created = audit(console_env.url, "wage_report.create")
    assert [row["actor"] for row in created] == ["test-admin", "test-admin", ACTOR_A]
    assert created[-1]["channel"] == "console"
    assert _actors(console_env, "wage_report.on_behalf") == [ACTOR_A]
    page = text_of(caseworker.get(done.headers["location"]).text)
    assert "Indberetningen er bogført på kortet." in page and "Konsol (telefonopkald)" in page


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("amount", "1250.50", "kan ikke læses entydigt"),
    ("amount", "1,250.50", "kan ikke læses entydigt"),
    ("amount", "1.25", "kan ikke læses entydigt"),
    ("amount", "12,505", "kan ikke læses entydigt"),
    ("amount", "-5", "kan ikke læses entydigt"),
    ("amount", "tusind kroner", "kan ikke læses entydigt"),
    ("amount", "1e3", "kan ikke læses entydigt"),
    ("amount", "", "Skriv beløbet i kroner"),
    ("amount", "0", "mere end 0 kr."),
    ("amount", "0,00", "mere end 0 kr."),
    ("hours", "fire", "Skriv antal timer som et tal"),
    ("hours", "-2", "Skriv antal timer som et tal"),
    ("paid_on", "31.02.2025", "Skriv betalingsdatoen som dd.mm.åååå"),
    ("paid_on", "i går", "Skriv betalingsdatoen som dd.mm.åååå"),
    ("cvr", " ", "Skriv arbejdsgiverens CVR-nummer"),
    ("cvr", "123", "CVR-nummeret er ikke gyldigt"),
])
def test_unclear_report_input_is_refused_and_changes_nothing(
    console_env: ConsoleEnv, field: str, typed: str, message: str,
) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    before = dump_tables(console_env.url)
    form = _report_form(world.cvr, "600")
    form[field] = typed
    refused = caseworker.post(f"/console/cards/{CARD_A}/reports", form)
    assert refused.status_code == 422
    assert message in refused.text
    at_the_form = refused.text.split('<details class="panel" id="indberet" open>')[1]
    assert message in at_the_form.split("</details>")[0]
    assert dump_tables(console_env.url) == before


def test_the_ledgers_rules_hold_for_reports_by_phone(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    before = dump_tables(console_env.url)
    unknown = caseworker.post(f"/console/cards/{CARD_A}/reports", _report_form("31425360", "600"))
    assert unknown.status_code == 422
    assert "Arbejdsgiveren med CVR 31425360 er ikke registreret." in unknown.text
    unverified = caseworker.post(f"/console/cards/{CARD_A}/reports",
                                 _report_form(world.unverified_cvr, "600"))
    assert unverified.status_code == 409 and "ikke godkendt endnu" in unverified.text
    too_early = caseworker.post(f"/console/cards/{CARD_A}/reports",
                                _report_form(world.cvr, "600", paid_on="31.12.2024"))
    assert too_early.status_code == 409 and "gjaldt ikke den" in too_early.text
    assert dump_tables(console_env.url) == before


def test_a_double_click_posts_once(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    page = caseworker.get(f"/console/cards/{CARD_A}").text
    key = re.search(r'name="key" value="([0-9a-f]{32})"', page)
    assert key, "no one-time key in the report form"
    form = _report_form(world.cvr, "100", key=key.group(1))
    assert caseworker.post(f"/console/cards/{CARD_A}/reports", form).status_code == 303
    assert caseworker.post(f"/console/cards/{CARD_A}/reports", form).status_code == 303
    assert console_env.ledger.balance(CARD_A, 2025).posted_ore == 700_00
    assert len(audit(console_env.url, "wage_report.on_behalf")) == 1
    fresh = re.search(r'name="key" value="([0-9a-f]{32})"',
                      caseworker.get(f"/console/cards/{CARD_A}").text)
    assert fresh and fresh.group(1) != key.group(1)


def test_a_report_over_the_cap_says_so(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    done = caseworker.post(f"/console/cards/{CARD_A}/reports",
                           _report_form(world.cvr, "42.500,00", hours="10"))
    assert done.status_code == 303, text_of(done.text)[:400]
    assert done.headers["location"] == f"/console/cards/{CARD_A}?besked=posted_over_cap#main"
    balance = console_env.ledger.balance(CARD_A, 2025)
    assert balance.posted_ore == 42_766_00
    assert balance.over_cap_ore == 600_00 + 42_500_00 - 42_766_00
    assert "ikke dækket af frikortet" in caseworker.get(done.headers["location"]).text


def test_a_deactivated_card_takes_only_wages_paid_before(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    caseworker.post(f"/console/cards/{CARD_A}/deactivate", {"reason": "X", "bekraeftet": "ja"})
    page = caseworker.get(f"/console/cards/{CARD_A}").text
    assert 'id="indberet"' in page and 'id="genaktiver" open' in page and 'id="kontrol"' not in page
    today = caseworker.post(f"/console/cards/{CARD_A}/reports", _report_form(world.cvr, "100"))
    assert today.status_code == 409, text_of(today.text)[:300]
    assert console_env.ledger.balance(CARD_A, 2025).posted_ore == 600_00
    earlier = caseworker.post(f"/console/cards/{CARD_A}/reports",
                              _report_form(world.cvr, "100", paid_on="2025-06-13"))
    assert earlier.status_code == 303
    assert console_env.ledger.balance(CARD_A, 2025).posted_ore == 700_00
