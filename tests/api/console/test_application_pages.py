"""Ansøgninger through the real app: applications made by the bot (one through the whole
dialogue, the others through the same `Turn.submit_application` the dialogue ends with),
decided by a caseworker in the console.

Checked on the ledger afterwards: the application's status, the card issued, the phone
linked, the grant or rejection message in the outbox on the applicant's channel; and that a
refusal (no CPR, a bad date, already decided, an empty reason) changes nothing.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from conversations.records import ApplicationAnswers
from nlu import Parser
from tests.api.console.conftest import ConsoleEnv, csrf_token, post_form
from tests.api.console.test_inbox_pages import Town, follow, make_town, user
from tests.ledger.support import fresh_cpr

APPLICANT = "+4560708090"
"""An unknown phone that applies through the bot."""
LONE, LONE_TELEGRAM = "+4561616161", "8880001"
KBH_APPLICANT = "+4562626262"


@pytest.fixture
def town(console_env: ConsoleEnv, channel_parser: Parser) -> Town:
    return make_town(console_env, channel_parser)


@pytest.fixture
def small_town(sqlite_console_env: ConsoleEnv, channel_parser: Parser) -> Town:
    return make_town(sqlite_console_env, channel_parser)


def submit(town: Town, address: str, *, channel: str = "sms", name: str = "Lone Jensen",
           cpr: str | None = None, municipality: str | None = "751") -> int:
    """An application as the bot's apply flow submits it at its last step."""
    answers = ApplicationAnswers(
        name=name, cpr=cpr, postcode="8000" if municipality == "751" else "2100",
        municipality_code=municipality,
        answers={"benefit": "kontanthjælp", "consent": True, "job_wishes": ["café", "lager"],
                 "contact": "sms", "helper": "Min bostøtte Per", "channel": channel,
                 "address": address, "cpr_later": cpr is None})
    return int(town.env.ledger.conversations.turn(
        channel, address, lambda turn: turn.submit_application(answers)))


def apply_through_the_bot(town: Town, cpr: str) -> int:
    """The whole application dialogue, as tests/bot/scenarios/apply_card_with_cpr.yml."""
    for said, expected in [
        ("jeg vil søge et frikort", "navn"), ("Peter Nielsen", "CPR-nummer"),
        (f"mit cpr er {cpr[:6]}-{cpr[6:]}", "postnummer"), ("8000", "lever du af"),
        ("kontanthjælp", "Må kommunen"), ("ja", "arbejde med"),
        ("rengøring, have og lager", "kontaktes"), ("ring til mig", "hjælper"),
        ("min bostøtte Per", "Svar JA for at sende"),
        ("ja", "ansøgning er sendt til Aarhus Kommune"),
    ]:
        replies = town.say(APPLICANT, said)
        assert any(expected in r for r in replies), (said, replies)
    [found] = [a.id for a in town.env.ledger.casework.applications(
        town.env.users["admin"], "received") if a.name == "Peter Nielsen"]
    return found


def status_of(town: Town, application_id: int) -> str:
    return town.env.ledger.casework.application(town.env.users["admin"], application_id).status


def cards_of(town: Town, name: str) -> list[str]:
    return [c.number for c in town.env.ledger.casework.search_cards(town.env.users["admin"],
                                                                    name)]


def queue_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/console/applications/(\d+)"', html)]


# The queue -------------------------------------------------------------------------------


def test_queue_shows_open_applications_oldest_first_with_waiting_time(town: Town) -> None:
    first = submit(town, LONE)
    town.env.clock.advance(days=2)
    second = submit(town, "+4563636363", name="Ib Madsen")
    town.env.clock.advance(hours=3)
    elsewhere = submit(town, KBH_APPLICANT, name="Kim Kbh", municipality="101")
    client = user(town, "caseworker_a")

    page = client.get("/console/applications")

    assert page.status_code == 200
    assert queue_ids(page.text) == [first, second]
    rows = re.findall(r"<tr>\s*<td>\d+</td>.*?</tr>", page.text, re.S)
    assert "Lone Jensen" in rows[0] and "venter 2 dage 3 t." in rows[0]
    assert "Ib Madsen" in rows[1] and "venter 3 t." in rows[1]
    assert "Venter på afgørelse" in rows[0] and "Mangler" in rows[0]  # no CPR given
    assert "Kim Kbh" not in page.text
    admin = user(town, "admin").get("/console/applications").text
    assert queue_ids(admin) == [first, second, elsewhere] and "København (101)" in admin

    assert queue_ids(client.get("/console/applications?status=approved").text) == []
    town.env.ledger.casework.reject(town.env.users["caseworker_a"], first, "Forkert kommune")
    rejected = client.get("/console/applications?status=rejected").text
    assert queue_ids(rejected) == [first] and "Afvist" in rejected
    assert queue_ids(client.get("/console/applications?status=all").text) == [second, first]
    assert client.get("/console/applications?status=bogus").status_code == 422


# One application -------------------------------------------------------------------------


MASKED_CPR = "1407812958"
"""Not from `fresh_cpr` (always born in 1980, so never this one): its last four digits are
looked for on the whole page, and fresh_cpr's count of calls in the process (1000 + n) meets
the page's own numbers (2025, 2000, 8000) or its random CSRF token by chance."""


def test_detail_shows_the_answers_with_the_cpr_masked(town: Town) -> None:
    cpr = MASKED_CPR
    application = apply_through_the_bot(town, cpr)

    page = user(town, "caseworker_a").get(f"/console/applications/{application}")

    assert page.status_code == 200
    text = page.text
    assert "Peter Nielsen" in text and f"{cpr[:6]}-xxxx" in text
    assert cpr not in text and cpr[6:] not in re.findall(r"\d+", text)
    assert "rengøring, have, lager" in text and "ring til mig" in text
    assert "min bostøtte Per" in text and "kontanthjælp" in text
    assert "Ja, borgeren har givet samtykke" in text and "Aarhus (751)" in text
    assert "Godkend og udsted frikort" in text and "+45 xx xx xx 90" in text
    assert "Begrundelse: [din begrundelse]." in text  # the rejection message, previewed


def test_approve_issues_the_card_links_the_phone_and_queues_the_grant_sms(town: Town) -> None:
    cpr = fresh_cpr()
    application = apply_through_the_bot(town, cpr)
    client = user(town, "caseworker_a")

    page = post_form(client, f"/console/applications/{application}/approve",
                     {"valid_from": "2025-07-01"})

    assert page.status_code == 200, page.text[:500]
    number = re.search(r'id="card-number">(\d{5})<', page.text).group(1)  # type: ignore[union-attr]  # no match fails the test
    code = re.search(r'id="link-code">(\d+)<', page.text).group(1)  # type: ignore[union-attr]  # no match fails the test
    assert "vises kun denne ene gang" in page.text and "01.07.2025" in page.text
    assert "Beskeden er sat i kø" in page.text and cpr not in page.text
    card = town.env.ledger.card(number)
    assert card.status == "active" and card.valid_from.isoformat() == "2025-07-01"
    assert card.municipality_code == "751"
    assert status_of(town, application) == "approved"
    [(grant, status, channel)] = [m for m in town.outbox(APPLICANT) if number in m[0]]
    assert (status, channel) == ("pending", "sms") and f"Frikort-ID er {number}" in grant
    assert code in grant  # the applicant gets the code; the page shows it only this once
    again = client.get(f"/console/applications/{application}").text
    assert 'id="link-code"' not in again and f"{number} {code}" not in again
    # The phone is linked: the new card holder can ask for the balance at once.
    assert any(number in reply for reply in town.say(APPLICANT, "saldo"))

    # A second click (or a reload of the POST) issues nothing and says why.
    outbox_before = town.outbox(APPLICANT)
    again = post_form(client, f"/console/applications/{application}/approve")
    assert again.status_code == 409 and "allerede afgjort" in again.text
    assert town.outbox(APPLICANT) == outbox_before
    assert cards_of(town, "Peter Nielsen") == [number]
    decided = client.get(f"/console/applications/{application}").text
    assert "Bevilget" in decided and f"/console/cards/{number}" in decided
    assert "Godkend og udsted frikort" not in decided


def test_approve_without_a_cpr_asks_for_it_and_then_issues_over_telegram(town: Town) -> None:
    application = submit(town, LONE_TELEGRAM, channel="telegram")
    client = user(town, "caseworker_a")
    form = client.get(f"/console/applications/{application}").text
    assert 'name="cpr"' in form and "Ikke oplyst" in form

    missing = post_form(client, f"/console/applications/{application}/approve")
    assert missing.status_code == 422 and "intet CPR-nummer" in missing.text
    bad = post_form(client, f"/console/applications/{application}/approve",
                    {"cpr": "3213991234"})
    assert bad.status_code == 422 and "3213991234" not in bad.text
    date = post_form(client, f"/console/applications/{application}/approve",
                     {"cpr": fresh_cpr(), "valid_from": "31.02.2025"})
    assert date.status_code == 422 and "dd.mm.åååå" in date.text
    assert status_of(town, application) == "received" and town.outbox(LONE_TELEGRAM) == []

    cpr = fresh_cpr()
    done = post_form(client, f"/console/applications/{application}/approve", {"cpr": cpr})

    assert done.status_code == 200 and cpr not in done.text
    assert "16.06.2025" in done.text  # no date given: from today
    assert status_of(town, application) == "approved"
    [(grant, _, channel)] = town.outbox(LONE_TELEGRAM)
    assert channel == "telegram" and "Godt nyt, Lone" in grant


def test_reject_shows_the_plain_message_first_then_sends_it(town: Town) -> None:
    application = submit(town, LONE)
    client = user(town, "caseworker_a")
    reason = "Du bor ikke i Aarhus Kommune"

    preview = post_form(client, f"/console/applications/{application}/reject",
                        {"reason": reason})

    assert preview.status_code == 200
    expected = (f"Hej Lone. Din ansøgning om socialt frikort (nr. {application}) er desværre "
                f"ikke godkendt af Aarhus Kommune. Begrundelse: {reason}. Har du spørgsmål, "
                "så kontakt Aarhus Kommune.")
    assert f'id="rejection-preview">{expected}<' in preview.text
    assert 'name="step" value="send"' in preview.text
    assert status_of(town, application) == "received" and town.outbox(LONE) == []

    sent = post_form(client, f"/console/applications/{application}/reject",
                     {"reason": reason, "step": "send"})
    page = follow(client, sent)

    assert sent.headers["location"] == f"/console/applications/{application}?besked=rejected"
    assert "beskeden med begrundelsen er sat i kø" in page and reason in page
    assert status_of(town, application) == "rejected"
    assert town.outbox(LONE) == [(expected, "pending", "sms")]


def test_reject_needs_a_reason_and_an_open_application(town: Town) -> None:
    application = submit(town, LONE)
    client = user(town, "caseworker_a")

    for step in ("preview", "send"):
        empty = post_form(client, f"/console/applications/{application}/reject",
                          {"reason": "  ", "step": step})
        assert empty.status_code == 422 and "Skriv en begrundelse." in empty.text
    assert status_of(town, application) == "received" and town.outbox(LONE) == []

    town.env.ledger.casework.reject(town.env.users["admin"], application, "Dobbelt")
    late = post_form(client, f"/console/applications/{application}/reject",
                     {"reason": "Noget andet", "step": "send"})
    assert late.status_code == 409 and "allerede afgjort" in late.text
    late_preview = post_form(client, f"/console/applications/{application}/reject",
                             {"reason": "Noget andet"})
    assert late_preview.status_code == 409
    assert len(town.outbox(LONE)) == 1


# Who may do what -------------------------------------------------------------------------


def _posts(application: int) -> list[tuple[str, dict[str, str]]]:
    return [(f"/console/applications/{application}/approve", {"cpr": fresh_cpr()}),
            (f"/console/applications/{application}/reject", {"reason": "Nej", "step": "send"})]


def _unchanged(town: Town, application: int) -> None:
    assert status_of(town, application) == "received" and town.outbox(LONE) == []


def test_employer_consultant_gets_403(small_town: Town) -> None:
    application = submit(small_town, LONE)
    consultant = user(small_town, "consultant")

    for path in ("/console/applications", f"/console/applications/{application}"):
        assert consultant.get(path).status_code == 403
    for path, data in _posts(application):
        assert post_form(consultant, path, data).status_code == 403
    _unchanged(small_town, application)


def test_another_municipality_gets_404_and_anonymous_users_login(small_town: Town) -> None:
    application = submit(small_town, LONE)
    outsider = user(small_town, "caseworker_b")

    assert outsider.get(f"/console/applications/{application}").status_code == 404
    assert outsider.get("/console/applications/999999").status_code == 404
    assert queue_ids(outsider.get("/console/applications?status=all").text) == []
    for path, data in _posts(application):
        response = post_form(outsider, path, data)
        assert response.status_code == 404 and "Siden findes ikke" in response.text

    anonymous: TestClient = small_town.env.new_client()
    for path in ("/console/applications", f"/console/applications/{application}"):
        page = anonymous.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    token = csrf_token(anonymous)
    for path, data in _posts(application):
        assert anonymous.post(path, data={"csrf_token": token, **data}).status_code == 401
    _unchanged(small_town, application)


def test_every_action_needs_the_csrf_token(small_town: Town) -> None:
    application = submit(small_town, LONE)
    client = user(small_town, "caseworker_a")

    for path, data in _posts(application):
        assert client.post(path, data=data).status_code == 403
        assert client.post(path, data={**data, "csrf_token": "nope"}).status_code == 403
    _unchanged(small_town, application)


def test_admin_picks_the_municipality_of_an_application_filed_under_none(
    small_town: Town,
) -> None:
    application = submit(small_town, LONE, cpr=fresh_cpr(), municipality=None)
    path = f"/console/applications/{application}"
    admin = user(small_town, "admin")
    assert 'name="municipality_code"' in admin.get(path).text
    assert user(small_town, "caseworker_a").get(path).status_code == 404

    unknown = post_form(admin, f"{path}/approve", {"municipality_code": "999"})
    missing = post_form(admin, f"{path}/approve")

    assert unknown.status_code == 422 and "Vælg ansøgerens handlekommune" in unknown.text
    assert missing.status_code == 422 and "ingen kommune" in missing.text
    _unchanged(small_town, application)
    done = post_form(admin, f"{path}/approve", {"municipality_code": "101"})
    assert done.status_code == 200
    number = re.search(r'id="card-number">(\d{5})<', done.text).group(1)  # type: ignore[union-attr]  # no match fails the test
    assert small_town.env.ledger.card(number).municipality_code == "101"
    assert status_of(small_town, application) == "approved"
