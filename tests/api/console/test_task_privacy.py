"""Privacy rules of small jobs over HTTP (issue 6).

- A helper sees the Opgaver and Telefonliste pages only: every other part of the console is
  403, and nothing there names a card holder who is not on the helper's own list.
- Before anyone takes a task, no page names a card holder; after a take, the task shows the
  first name and Frikort-ID only (what the employer learns), never a surname, CPR or phone.
- The notice-board page holds no personal data at all.
- Another municipality's task is the same 404 as a missing one; wrong roles are 403; every
  POST needs the CSRF token. Refusals change nothing.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from smalljobs.commands import PostTask
from tests.api.console.card_data import browser, text_of
from tests.api.console.conftest import ConsoleEnv
from tests.api.console.task_data import BENTE, JENS, METTE, NAMES, PHONES, START, build
from tests.ledger.support import ADMIN, dump_tables

SURNAMES = [name.split()[1] for name in NAMES.values()]
FIRST_NAMES = [name.split()[0] for name in NAMES.values()]


def _holders_absent(html: str) -> None:
    for name in SURNAMES + FIRST_NAMES:
        assert name not in html, name
    for number in NAMES:
        assert number not in html, number


@pytest.mark.parametrize("path", [
    "/console/inbox", "/console/inbox/rows", "/console/applications", "/console/cards",
    "/console/cards/controls-due", f"/console/cards/{JENS}", "/console/employers",
    "/console/overview", "/console/caps", "/console/users",
])
def test_a_helper_gets_403_outside_tasks_and_the_phone_list(
    console_env: ConsoleEnv, path: str,
) -> None:
    build(console_env)
    page = browser(console_env, "helper_a").get(path)
    assert page.status_code == 403, path
    assert "Ingen adgang" in page.text
    _holders_absent(page.text)


def test_a_helper_cannot_look_up_cards(console_env: ConsoleEnv) -> None:
    build(console_env)
    helper = browser(console_env, "helper_a")
    before = dump_tables(console_env.url)
    assert helper.post("/console/cards/search", {"q": JENS}).status_code == 403
    assert helper.post("/console/cards/search", {"q": "Hansen"}).status_code == 403
    guess = helper.post("/console/phone-list", {"card": JENS, "fornavn": "Per",
                                                "samtykke": "ja"})
    assert guess.status_code == 422
    assert "Jens" not in guess.text and "Hansen" not in guess.text
    assert dump_tables(console_env.url) == before


def test_a_helpers_menu_has_tasks_and_the_phone_list_only(console_env: ConsoleEnv) -> None:
    build(console_env)
    home = browser(console_env, "helper_a").get("/console")
    assert home.status_code == 200
    menu = home.text.split('aria-label="Hovedmenu"', 1)[1].split("</nav>", 1)[0]
    labels = [part.split("</a>")[0].rsplit(">", 1)[-1] for part in menu.split("<a ")[1:]]
    assert labels == ["Opgaver", "Telefonliste"]
    assert "Hjælper (værested/herberg)" in home.text


def test_no_holder_is_named_before_a_take(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    for user in ("consultant", "caseworker_a", "helper_a", "admin"):
        client = browser(console_env, user)
        for path in ("/console/tasks", "/console/tasks?status=all",
                     f"/console/tasks/{world.task_a}", "/console/tasks/print?municipality=751"):
            page = client.get(path)
            assert page.status_code == 200, (user, path)
            _holders_absent(page.text)


def test_after_a_take_only_first_name_and_frikort_id(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    console_env.ledger.tasks.take_task(world.task_a, JENS, via="sms", actor=ADMIN)
    for user in ("consultant", "caseworker_a", "admin"):
        client = browser(console_env, user)
        page = client.get(f"/console/tasks/{world.task_a}")
        text = text_of(page.text)
        assert f"{JENS} Jens" in text, user
        assert "Hansen" not in page.text, user
        assert PHONES[JENS] not in page.text, user
        _no_cpr(page.text)
        for path in ("/console/tasks?status=all", "/console/tasks/print"):
            listing = client.get(path).text
            assert "Jens" not in listing and JENS not in listing, (user, path)


def _no_cpr(html: str) -> None:
    assert not re.search(r"\b\d{6}-?\d{4}\b", html), "something like a CPR number is shown"


def test_a_helper_sees_only_people_on_their_own_list_on_a_task(
    console_env: ConsoleEnv,
) -> None:
    world = build(console_env)
    helper = browser(console_env, "helper_a")
    helper.post("/console/phone-list", {"card": METTE, "fornavn": "Mette", "samtykke": "ja"})
    tasks = console_env.ledger.tasks
    two = tasks.post_task(_two_places(world.cvr), actor=ADMIN).id
    tasks.take_task(two, JENS, via="sms", actor=ADMIN)  # Jens is not on the helper's list
    page = helper.get(f"/console/tasks/{two}").text
    assert "Jens" not in page and JENS not in page
    assert "Ingen fra din telefonliste har taget opgaven endnu." in text_of(page)
    tasks.take_task(two, METTE, via="sms", actor=ADMIN)
    page = helper.get(f"/console/tasks/{two}").text
    assert f"{METTE} Mette" in text_of(page) and "Jens" not in page
    assert "Jens" in browser(console_env, "caseworker_a").get(f"/console/tasks/{two}").text


def _two_places(cvr: str) -> PostTask:
    return PostTask(employer_cvr=cvr, title="Maling", postcode="8000", window_start=START,
                    window_end=START, expected_hours=Decimal(2), pay_per_hour_ore=140_00,
                    places=2)


def test_another_municipalitys_task_is_404(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    before = dump_tables(console_env.url)
    client = browser(console_env, "caseworker_b")
    assert client.get(f"/console/tasks/{world.task_a}").status_code == 404
    cancel = client.post(f"/console/tasks/{world.task_a}/cancel")
    assert cancel.status_code == 404 and "Siden findes ikke" in cancel.text
    helper = browser(console_env, "helper_a")
    helper.post("/console/phone-list", {"card": JENS, "fornavn": "Jens", "samtykke": "ja"})
    after_add = dump_tables(console_env.url)
    for path in (f"/console/tasks/{world.task_b}", "/console/tasks/999999"):
        page = helper.get(path)
        assert page.status_code == 404 and "Flytning" not in page.text, path
    refused = helper.post(f"/console/tasks/{world.task_b}/sign-up",
                          {"card": JENS, "samtykke": "ja"})
    assert refused.status_code == 404 and "Flytning" not in refused.text
    assert dump_tables(console_env.url) == after_add
    assert before != after_add  # the one change was the helper's own list
    assert BENTE not in helper.get("/console/tasks?status=all").text


@pytest.mark.parametrize(("path", "data"), [
    ("/console/tasks", {"title": "Havearbejde", "postcode": "8000"}),
    ("/console/tasks/{task}/cancel", {}),
    ("/console/tasks/{task}/sign-up", {"card": JENS, "samtykke": "ja"}),
    ("/console/phone-list", {"card": JENS, "fornavn": "Jens", "samtykke": "ja"}),
])
def test_every_post_needs_the_csrf_token(console_env: ConsoleEnv, path: str,
                                         data: dict[str, str]) -> None:
    world = build(console_env)
    client = browser(console_env, "admin").client
    before = dump_tables(console_env.url)
    refused = client.post(path.format(task=world.task_a), data=data)
    assert refused.status_code == 403 and "Formularen er udløbet" in refused.text
    assert dump_tables(console_env.url) == before
