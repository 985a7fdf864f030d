"""The Opgaver pages through the real app: the list with its figures, posting a task on an
employer's behalf (and every refusal changing nothing), one task, cancelling, the page for
the notice board, and the background jobs the server runs for small jobs."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from api.smalljob_jobs import smalljob_jobs
from tests.api.console.card_data import browser, text_of
from tests.api.console.conftest import ConsoleEnv, csrf_token
from tests.api.console.task_data import (
    BENTE,
    EMPLOYER_PHONE,
    JENS,
    METTE,
    build,
    outbox_to,
    post,
    rows,
)
from tests.ledger.support import ADMIN, dump_tables

FORM = {"cvr": "", "title": "Læsse en lastbil", "description": "Møbler til genbrug",
        "place": "Gården bag butikken", "postcode": "8210", "window_start": "2025-06-18",
        "window_end": "25.06.2025", "hours": "4", "pay_per_hour": "162,50", "places": "2",
        "audience": "open"}


def titles(html: str) -> list[str]:
    return re.findall(r'<a href="/console/tasks/\d+">([^<]+)</a>', html)


def test_the_list_shows_the_users_municipality_and_its_figures(
    console_env: ConsoleEnv,
) -> None:
    world = build(console_env)
    tasks = console_env.ledger.tasks
    taken = tasks.take_task(world.task_a, JENS, via="sms", actor=ADMIN)  # its one place
    tasks.confirm_assignment(taken.id, employer_cvr=world.cvr, actor=ADMIN)
    expired = post(console_env.ledger, world.cvr, "Rydde kælder", "8000")
    console_env.clock.advance(days=2)
    console_env.ledger.tasks.cancel_task(expired, employer_cvr=None, actor=ADMIN)
    console_env.clock.advance(days=10)  # both windows have ended
    tasks.expire_tasks()

    caseworker = browser(console_env, "caseworker_a")
    page = caseworker.get("/console/tasks?status=all")
    assert page.status_code == 200
    assert sorted(titles(page.text)) == ["Havearbejde", "Rydde kælder"]
    assert "Flytning" not in page.text  # København's task
    text = text_of(page.text)
    assert "Slået op 2" in text
    assert "Besat 1 (50 %)" in text
    assert "Udløbet uden at blive besat 0" in text  # cancelled is not expired
    assert "Tid til besat (median) under 1 min." in text  # taken the moment it was posted

    admin = browser(console_env, "admin").get("/console/tasks?status=all")
    assert {"Havearbejde", "Flytning", "Rydde kælder"} <= set(titles(admin.text))
    assert "Udløbet uden at blive besat 1" in text_of(admin.text)  # Flytning, nobody on it


def test_the_status_filter(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    console_env.ledger.tasks.cancel_task(world.task_a, employer_cvr=None, actor=ADMIN)
    admin = browser(console_env, "admin")
    assert titles(admin.get("/console/tasks").text) == ["Flytning"]  # open is the default
    assert titles(admin.get("/console/tasks?status=cancelled").text) == ["Havearbejde"]
    assert admin.get("/console/tasks?status=nonsense").status_code == 422


def test_posting_a_task_for_an_employer(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    consultant = browser(console_env, "consultant")
    form = consultant.get("/console/tasks").text
    assert f'<option value="{world.cvr}">Havefirmaet Grøn Hånd ApS</option>' in form
    assert world.unverified_cvr not in form  # only verified employers are offered

    posted = consultant.post("/console/tasks", {**FORM, "cvr": world.cvr})
    assert posted.status_code == 303
    location = posted.headers["location"]
    assert re.fullmatch(r"/console/tasks/\d+\?besked=posted", location)
    task_id = int(location.split("/")[-1].split("?")[0])
    view = console_env.ledger.tasks.task(task_id)
    assert (view.title, view.postcode, view.municipality_code, view.places) == (
        "Læsse en lastbil", "8210", "751", 2)
    assert (view.window_start, view.window_end) == (dt.date(2025, 6, 18), dt.date(2025, 6, 25))
    assert view.pay_per_hour_ore == 162_50 and str(view.expected_hours.normalize()) == "4"
    page = text_of(consultant.get(location).text)
    assert "Opgaven er slået op." in page
    assert "162,50 kr." in page and "18.06.2025 – 25.06.2025" in page
    audit = [r for r in rows(console_env.url, "audit_log") if r["action"] == "task.post"]
    assert audit[-1]["actor"] == "console:consultant"


@pytest.mark.parametrize(("change", "message"), [
    ({"title": "  "}, "Skriv, hvad opgaven går ud på"),
    ({"postcode": "80"}, "Skriv et postnummer med 4 cifre"),
    ({"postcode": "0999"}, None),  # four digits, but no such postcode: the ledger says so
    ({"window_start": "31.02.2025"}, "Skriv datoerne som dd.mm.åååå"),
    ({"window_start": "2025-06-10"}, None),  # in the past: the ledger's message
    ({"pay_per_hour": "1.5"}, "Beløbet kan ikke læses entydigt"),
    ({"pay_per_hour": "5"}, None),  # a typo, not a wage: the ledger's message
    ({"hours": "fire"}, "Skriv antal timer som et tal"),
    ({"places": "to"}, "Skriv antal personer som et helt tal"),
    ({"places": "21"}, None),
    ({"audience": "alle"}, "Vælg, om opgaven er for alle"),
    ({"cvr": "unverified"}, None),
])
def test_a_refused_task_changes_nothing_and_keeps_the_form(
    console_env: ConsoleEnv, change: dict[str, str], message: str | None,
) -> None:
    world = build(console_env)
    if change.get("cvr") == "unverified":
        change = {"cvr": world.unverified_cvr}
    caseworker = browser(console_env, "caseworker_a")
    before = dump_tables(console_env.url)
    refused = caseworker.post("/console/tasks", {**FORM, "cvr": world.cvr, **change})
    assert refused.status_code in (409, 422), refused.status_code
    alert = re.search(r'<p class="alert alert-error" role="alert">([^<]+)</p>', refused.text)
    assert alert, refused.text[-2000:]
    if message is not None:
        assert message in alert.group(1)
    assert 'value="Gården bag butikken"' in refused.text  # nothing to type again
    assert dump_tables(console_env.url) == before


def test_a_task_in_another_municipality_is_posted_but_not_shown_here(
    console_env: ConsoleEnv,
) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_b")
    posted = caseworker.post("/console/tasks", {**FORM, "cvr": world.cvr})
    assert posted.status_code == 303
    assert posted.headers["location"] == "/console/tasks?besked=posted_elsewhere"
    assert "står på deres liste og ikke her" in caseworker.get(posted.headers["location"]).text
    admin = browser(console_env, "admin").get("/console/tasks").text
    assert "Læsse en lastbil" in admin


def test_one_task_and_who_took_it(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    caseworker = browser(console_env, "caseworker_a")
    before = text_of(caseworker.get(f"/console/tasks/{world.task_a}").text)
    assert "Ingen har taget opgaven endnu." in before
    assert "Havefirmaet Grøn Hånd ApS" in before and "Baghaven, 8000 Aarhus C" in before
    console_env.ledger.tasks.take_task(world.task_a, JENS, via="sms", actor=ADMIN)
    page = caseworker.get(f"/console/tasks/{world.task_a}")
    text = text_of(page.text)
    assert f"{JENS} Jens Reserveret - venter på arbejdsgiveren SMS" in text
    assert f'<a href="/console/cards/{JENS}">' in page.text  # a caseworker may open the card
    assert "Hansen" not in text
    consultant = browser(console_env, "consultant").get(f"/console/tasks/{world.task_a}")
    assert f"{JENS} Jens" in text_of(consultant.text)
    assert f'href="/console/cards/{JENS}"' not in consultant.text  # the card pages are 403


def test_cancelling_a_task(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    console_env.ledger.tasks.take_task(world.task_a, JENS, via="sms", actor=ADMIN)
    consultant = browser(console_env, "consultant")
    assert "Aflys opgaven" in consultant.get(f"/console/tasks/{world.task_a}").text
    done = consultant.post(f"/console/tasks/{world.task_a}/cancel")
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/tasks/{world.task_a}?besked=cancelled"
    assert console_env.ledger.tasks.task(world.task_a).status == "cancelled"
    assert any("bliver ikke til noget alligevel" in t for t in outbox_to(
        console_env.url, "+4520304050"))
    page = consultant.get(done.headers["location"])
    assert "Opgaven er aflyst." in page.text and "Aflys opgaven" not in page.text

    before = dump_tables(console_env.url)
    again = consultant.post(f"/console/tasks/{world.task_a}/cancel")
    assert again.status_code == 409
    assert 'role="alert"' in again.text
    assert dump_tables(console_env.url) == before


def test_the_notice_board_page(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    post(console_env.ledger, world.cvr, "Kun for kendte", "8000", audience="own_list")
    filled = post(console_env.ledger, world.cvr, "Allerede besat", "8000")
    console_env.ledger.tasks.take_task(filled, METTE, via="sms", actor=ADMIN)
    helper = browser(console_env, "helper_a")
    page = helper.get("/console/tasks/print")
    assert page.status_code == 200
    board = page.text.split('class="notice-board"', 1)[1]
    assert "Havearbejde" in board
    assert "Flytning" not in board  # København's
    assert "Kun for kendte" not in board  # the employer's own list only
    assert "Allerede besat" not in board
    text = text_of(board)
    assert "Baghaven, 8000 Aarhus C" in text and "150,00 kr. i timen" in text
    assert "1 af 1 pladser ledige" in text and "ca. 3 timer" in text
    assert "Skriv JOB til Frikort-assistenten, eller spørg personalet." in text
    assert "data-print" in page.text

    admin = browser(console_env, "admin")
    chooser = admin.get("/console/tasks/print")
    assert chooser.status_code == 200 and 'class="notice-board"' not in chooser.text
    assert "Flytning" in admin.get("/console/tasks/print?municipality=101").text
    assert admin.get("/console/tasks/print?municipality=999").status_code == 422
    # Someone else's municipality cannot be asked for: the parameter is for administrators.
    assert "Flytning" not in helper.get("/console/tasks/print?municipality=101").text


def test_the_notice_board_gives_the_sms_number_when_there_is_one(
    console_env: ConsoleEnv,
) -> None:
    build(console_env)
    console_env.app.state.settings = console_env.app.state.settings.model_copy(
        update={"TWILIO_FROM_NUMBER": "+4570203040"})
    page = browser(console_env, "caseworker_a").get("/console/tasks/print")
    assert "Skriv JOB til 70 20 30 40, eller spørg personalet." in text_of(page.text)


def test_a_helper_sees_tasks_but_does_not_post_or_cancel(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    helper = browser(console_env, "helper_a")
    listing = helper.get("/console/tasks")
    assert listing.status_code == 200 and "Havearbejde" in listing.text
    assert 'action="/console/tasks"' not in listing.text  # no form to post
    detail = helper.get(f"/console/tasks/{world.task_a}").text
    assert "Aflys opgaven" not in detail
    assert f'href="/console/employers/{world.cvr}"' not in detail
    before = dump_tables(console_env.url)
    assert helper.post("/console/tasks", {**FORM, "cvr": world.cvr}).status_code == 403
    assert helper.post(f"/console/tasks/{world.task_a}/cancel").status_code == 403
    assert dump_tables(console_env.url) == before


def test_task_text_is_escaped(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    task = post(console_env.ledger, world.cvr, '<script>alert("x")</script> Maling', "8000")
    for path in ("/console/tasks", f"/console/tasks/{task}", "/console/tasks/print"):
        page = browser(console_env, "caseworker_a").get(path).text
        assert '<script>alert("x")</script>' not in page, path
        assert "&lt;script&gt;" in page, path


def test_the_server_runs_the_small_job_jobs(console_env: ConsoleEnv) -> None:
    """The three jobs are registered on the background loop, and each calls the ledger."""
    world = build(console_env)
    names = [job.name for job in console_env.app.state.scheduler.jobs]
    assert {"task-hour-prompts", "task-digests", "task-expiry"} <= set(names)

    tasks = console_env.ledger.tasks
    assignment = tasks.take_task(world.task_a, JENS, via="sms", actor=ADMIN)
    tasks.confirm_assignment(assignment.id, employer_cvr=world.cvr, actor=ADMIN)
    tasks.subscribe_digest(BENTE, "1050", "daily")
    console_env.clock.advance(days=8)  # Havearbejde's and Flytning's windows (20.06.) ended
    post(console_env.ledger, world.cvr, "Ny opgave i byen", "1050",
         start=dt.date(2025, 6, 27))
    for job in smalljob_jobs(console_env.ledger):
        job.run()
    assert any("har udført opgaven Havearbejde" in t
               for t in outbox_to(console_env.url, EMPLOYER_PHONE))
    assert any("nye opgaver i 1050" in t or "ny opgave i 1050" in t
               for t in outbox_to(console_env.url, "+4522446688"))
    assert tasks.task(world.task_b).status == "expired"


def test_anonymous_users_are_sent_to_login(console_env: ConsoleEnv) -> None:
    world = build(console_env)
    anonymous = console_env.new_client()
    for path in ("/console/tasks", f"/console/tasks/{world.task_a}", "/console/tasks/print"):
        page = anonymous.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith(
            "/console/login?next="), path
    refused = anonymous.post(f"/console/tasks/{world.task_a}/cancel",
                             data={"csrf_token": csrf_token(anonymous)})
    assert refused.status_code == 401
    assert console_env.ledger.tasks.task(world.task_a).status == "open"
