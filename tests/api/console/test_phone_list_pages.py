"""The helper role's pages through the real app: the phone list (added by Frikort-ID and
first name, with consent required and recorded), taking someone off it, and signing someone
on the list up for a task on their behalf."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.console.card_data import Browser, browser, text_of
from tests.api.console.conftest import PASSWORD, ConsoleEnv
from tests.api.console.task_data import (
    BENTE,
    EMPLOYER_PHONE,
    JENS,
    METTE,
    OLE,
    PHONES,
    build,
    outbox_to,
    rows,
)
from tests.ledger.support import ADMIN, dump_tables

CONSENT = "Borgeren har sagt ja til at stå på listen."


def add(helper: Browser, number: str, first_name: str, **extra: str) -> httpx.Response:
    """Puts a card holder on the user's phone list through the form, consent ticked."""
    data = {"card": number, "fornavn": first_name, "samtykke": "ja",
            "note": "Sagde ja på værestedet i dag", **extra}
    return helper.post("/console/phone-list", data)


def test_adding_someone_records_their_consent(console_env: ConsoleEnv) -> None:
    build(console_env)
    helper = browser(console_env, "helper_a")
    empty = helper.get("/console/phone-list")
    assert empty.status_code == 200 and "Der er ingen på listen endnu." in empty.text
    added = add(helper, JENS, "jens")  # the first name as the holder says it
    assert added.status_code == 303
    assert added.headers["location"] == "/console/phone-list?besked=added"
    page = text_of(helper.get(added.headers["location"]).text)
    assert "Borgeren er sat på telefonlisten, og samtykket er gemt." in page
    assert f"Jens Hansen {JENS}" in page
    assert f"{CONSENT} Sagde ja på værestedet i dag" in page
    assert "16.06.2025 kl." in page  # the date it was given
    assert PHONES[JENS] not in page  # the phone is shown masked only
    entries = console_env.ledger.tasks.phone_list(console_env.users["helper_a"])
    assert [(e.card_number, e.consent_note) for e in entries] == [
        (JENS, f"{CONSENT} Sagde ja på værestedet i dag")]


def test_consent_is_required(console_env: ConsoleEnv) -> None:
    build(console_env)
    helper = browser(console_env, "helper_a")
    before = dump_tables(console_env.url)
    refused = add(helper, JENS, "Jens", samtykke="")
    assert refused.status_code == 422
    assert "Sæt flueben i samtykket." in refused.text
    assert dump_tables(console_env.url) == before


@pytest.mark.parametrize(("number", "first_name"), [
    (JENS, "Mette"),  # a real card, another first name
    ("99999", "Jens"),  # no such card
    (BENTE, "Bente"),  # another municipality's card holder
    (OLE, "Ole"),  # a deactivated card
    ("", "Jens"),
])
def test_a_wrong_pair_gets_one_answer_and_reveals_nothing(
    console_env: ConsoleEnv, number: str, first_name: str,
) -> None:
    build(console_env)
    helper = browser(console_env, "helper_a")
    before = dump_tables(console_env.url)
    refused = add(helper, number, first_name)
    assert refused.status_code == 422
    assert "Frikort-ID og fornavn passer ikke sammen" in refused.text
    for surname in ("Hansen", "Madsen", "Brandt", "Olsen"):
        assert surname not in refused.text
    assert dump_tables(console_env.url) == before


def test_a_first_name_is_required(console_env: ConsoleEnv) -> None:
    build(console_env)
    refused = add(browser(console_env, "helper_a"), JENS, " ")
    assert refused.status_code == 422
    assert "Skriv borgerens fornavn" in refused.text


def test_each_user_sees_and_changes_only_their_own_list(console_env: ConsoleEnv) -> None:
    build(console_env)
    console_env.ledger.staff.add_user("helper_a2", PASSWORD, "helper", "751", "Anden Hjælper")
    first, second = browser(console_env, "helper_a"), browser(console_env, "helper_a2")
    assert add(first, JENS, "Jens").status_code == 303
    assert add(second, METTE, "Mette").status_code == 303
    assert "Jens Hansen" in first.get("/console/phone-list").text
    other = second.get("/console/phone-list").text
    assert "Mette Madsen" in other and "Jens" not in other and JENS not in other
    entry = console_env.ledger.tasks.phone_list(console_env.users["helper_a"])[0].id
    before = dump_tables(console_env.url)
    refused = second.post(f"/console/phone-list/{entry}/remove")
    assert refused.status_code == 404 and "Siden findes ikke" in refused.text
    assert dump_tables(console_env.url) == before
    removed = first.post(f"/console/phone-list/{entry}/remove")
    assert removed.status_code == 303
    assert removed.headers["location"] == "/console/phone-list?besked=removed"
    assert "Jens Hansen" not in first.get("/console/phone-list").text


def test_an_administrator_keeps_a_list_too(console_env: ConsoleEnv) -> None:
    build(console_env)
    admin = browser(console_env, "admin")
    assert add(admin, BENTE, "Bente").status_code == 303  # every municipality
    assert "Bente Brandt" in admin.get("/console/phone-list").text
    assert "Bente" not in browser(console_env, "helper_a").get("/console/phone-list").text


def test_signing_someone_up_for_a_task(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    helper = browser(console_env, "helper_a")
    none_yet = text_of(helper.get(f"/console/tasks/{world.task_a}").text)
    assert "Der er ingen på din telefonliste" in none_yet
    assert "som kan skrives op til opgaven." in none_yet
    add(helper, JENS, "Jens")
    page = helper.get(f"/console/tasks/{world.task_a}").text
    assert f'<option value="{JENS}">Jens Hansen ({JENS})</option>' in page

    before = dump_tables(console_env.url)
    refused = helper.post(f"/console/tasks/{world.task_a}/sign-up",
                          {"card": JENS, "note": "Ja i telefonen"})
    assert refused.status_code == 422 and "Sæt flueben i samtykket." in refused.text
    assert 'value="Ja i telefonen"' in refused.text
    assert dump_tables(console_env.url) == before

    done = helper.post(f"/console/tasks/{world.task_a}/sign-up",
                       {"card": JENS, "samtykke": "ja", "note": "Ja i telefonen"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/tasks/{world.task_a}?besked=signed_up"
    [assignment] = console_env.ledger.tasks.assignments_for_card(JENS)
    assert (assignment.task.id, assignment.via, assignment.helper) == (
        world.task_a, "helper", "helper_a")
    [row] = rows(console_env.url, "task_assignments")
    assert row["consent_note"] == ("Borgeren har sagt ja til at blive skrevet op til opgaven. "
                                   "Ja i telefonen")
    to_employer = outbox_to(console_env.url, EMPLOYER_PHONE)
    assert any(f"Jens (frikort {JENS}) vil gerne tage opgaven Havearbejde" in t
               for t in to_employer)
    assert not any("Hansen" in t for t in to_employer)
    assert any("har skrevet dig op til opgaven Havearbejde" in t
               for t in outbox_to(console_env.url, PHONES[JENS]))
    shown = text_of(helper.get(done.headers["location"]).text)
    assert "Borgeren er skrevet op." in shown
    assert f"{JENS} Jens Reserveret - venter på arbejdsgiveren Skrevet op af en hjælper" in shown


def test_only_people_on_the_users_own_list_can_be_signed_up(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    helper = browser(console_env, "helper_a")
    add(helper, JENS, "Jens")
    before = dump_tables(console_env.url)
    refused = helper.post(f"/console/tasks/{world.task_a}/sign-up",
                          {"card": METTE, "samtykke": "ja", "note": ""})
    assert refused.status_code == 422
    assert "Borgeren står ikke på din telefonliste." in refused.text
    assert "Mette" not in refused.text
    missing = helper.post(f"/console/tasks/{world.task_a}/sign-up",
                          {"card": "", "samtykke": "ja"})
    assert missing.status_code == 422 and "Vælg borgeren på din telefonliste." in missing.text
    assert dump_tables(console_env.url) == before


def test_a_refusal_from_the_ledger_is_shown_at_the_form(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    helper = browser(console_env, "helper_a")
    add(helper, JENS, "Jens")
    add(helper, METTE, "Mette")
    console_env.ledger.tasks.take_task(world.task_a, METTE, via="sms", actor=ADMIN)
    page = helper.get(f"/console/tasks/{world.task_a}").text
    assert "Opgaven har ingen ledige pladser." in page
    before = dump_tables(console_env.url)
    refused = helper.post(f"/console/tasks/{world.task_a}/sign-up",
                          {"card": JENS, "samtykke": "ja"})  # a stale page: the place is gone
    assert refused.status_code == 409
    alert = re.search(r'id="skriv-op">.*?role="alert">([^<]+)<', refused.text, re.S)
    assert alert and alert.group(1).strip()
    assert dump_tables(console_env.url) == before


def test_other_roles_have_no_phone_list(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    for user in ("caseworker_a", "consultant"):
        client = browser(console_env, user)
        assert client.get("/console/phone-list").status_code == 403, user
        before = dump_tables(console_env.url)
        assert add(client, JENS, "Jens").status_code == 403, user
        assert client.post(f"/console/tasks/{world.task_a}/sign-up",
                           {"card": JENS, "samtykke": "ja"}).status_code == 403, user
        assert dump_tables(console_env.url) == before
        assert "Telefonliste" not in client.get("/console").text, user
