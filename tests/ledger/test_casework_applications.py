"""Applications through `ledger.casework`, on SQLite and PostgreSQL: the queue, one
application, approve end to end, reject, double decisions (also concurrent), roles, scope."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conversations.linking import LinkOutcome
from db.errors import DomainError
from tests.ledger.casework_support import (
    ADA,
    JENS_PHONE,
    KIM,
    OLE,
    SARA,
    World,
    make_world,
    refused,
    unchanged,
)
from tests.ledger.support import fresh_cpr, world_fixture

world = world_fixture(make_world)


LONE_PHONE = "+4522334455"
LONE_TELEGRAM = "55501"


def test_queue_and_detail_with_processing_time(world: World) -> None:
    cpr = fresh_cpr()
    first = world.apply("sms", LONE_PHONE, cpr=cpr)
    world.clock.advance(hours=2)
    later = world.apply("telegram", LONE_TELEGRAM, name="Per Nielsen", cpr=None)
    world.apply("sms", "+4533445566", municipality="101")
    world.clock.advance(hours=1)

    queue = world.ledger.casework.applications(SARA)
    assert [(a.id, a.status, a.processing_seconds, a.has_cpr, a.channel) for a in queue] == [
        (first, "received", 3 * 3600, True, "sms"), (later, "received", 3600, False, "telegram")]
    detail = world.ledger.casework.application(SARA, first)
    assert detail.cpr_masked == f"{cpr[:6]}-xxxx" and cpr not in repr(detail)
    assert (detail.benefit, detail.consent, detail.job_wishes) == ("kontanthjælp", True,
                                                                   ("café", "lager"))
    assert (detail.contact_preference, detail.helper) == ("sms", "Min bostøtte Per")
    assert (detail.channel, detail.address, detail.address_masked) == (
        "sms", LONE_PHONE, "+45 xx xx xx 55")
    assert detail.municipality_name == "Aarhus" and detail.status == "received"
    assert world.ledger.casework.application(SARA, later).cpr_later is True
    assert [a.id for a in world.ledger.casework.applications(SARA, "approved")] == []
    refused("invalid_input", lambda: world.ledger.casework.applications(SARA, "maybe"))


def test_approve_end_to_end(world: World) -> None:
    cpr = fresh_cpr()
    app_id = world.apply("sms", LONE_PHONE, cpr=cpr)
    world.clock.advance(days=2)
    decision = world.ledger.casework.approve(SARA, app_id)

    assert decision.status == "approved" and decision.contact_linked and decision.message_queued
    number, code = decision.card_number, decision.link_code
    assert number and code and len(code) == 4 and decision.valid_from == world.clock.now.date()
    # The card exists in Aarhus, for this applicant, with the caseworker in its history.
    card = world.ledger.casework.card(SARA, number)
    assert (card.holder_name, card.cpr_masked, card.status) == (
        "Lone Jensen", f"{cpr[:6]}-xxxx", "active")
    assert [(e.kind, e.actor) for e in card.history] == [("issued", "console:sara")]
    # The phone she applied from now identifies her.
    assert [c.kind for c in card.contacts] == ["phone"]
    # The grant message went to her channel, with the Frikort-ID and the link code.
    [(text, status, channel)] = world.ledger.conversations.recent_outbox(LONE_PHONE)
    assert (status, channel) == ("pending", "sms")
    assert number in text and f"LINK {number} {code}" in text and "SALDO" in text
    assert "Lone" in text and world.clock.now.strftime("%d.%m.%Y") in text
    # ...but the transcript keeps it without the code.
    shown = [m["text"] for m in world.rows("transcript_messages") if number in m["text"]]
    assert shown and all(f"LINK {number} ****" in t and f"{number} {code}" not in t
                         for t in shown)
    # The application is decided, by Sara, two days after it came in.
    detail = world.ledger.casework.application(SARA, app_id)
    assert (detail.status, detail.decided_by, detail.card_number) == (
        "approved", "console:sara", number)
    assert detail.processing_seconds == 2 * 24 * 3600
    # The link code works (as the bot's LINK would use it) from a second phone.
    outcome = world.ledger.run_write(lambda uow: _link(uow, number, code))
    assert outcome is LinkOutcome.LINKED
    assert [r["actor"] for r in world.audit("application.approve")] == ["console:sara"]
    assert world.audit("card.issue")[-1]["actor"] == "console:sara"


def _link(uow: Any, number: str, code: str) -> LinkOutcome:
    from conversations.linking import link_with_code

    outcome = link_with_code(uow.session, channel="sms", address="+4599887766",
                             card_number=number, code=code, hash_key=uow.config.cpr_hash_key,
                             now=uow.now)
    uow.commit()
    return outcome


def test_approve_from_telegram_links_telegram_and_writes_there(world: World) -> None:
    app_id = world.apply("telegram", LONE_TELEGRAM, cpr=fresh_cpr())
    decision = world.ledger.casework.approve(SARA, app_id)
    card = world.ledger.casework.card(SARA, decision.card_number or "")
    assert [c.kind for c in card.contacts] == ["telegram"]
    [(text, _, channel)] = world.ledger.conversations.recent_outbox(LONE_TELEGRAM)
    assert channel == "telegram" and decision.card_number in text


def test_a_cpr_is_required_and_may_be_given_by_the_caseworker(world: World) -> None:
    app_id = world.apply("sms", LONE_PHONE, cpr=None)
    unchanged(world, "application_needs_cpr", lambda: world.ledger.casework.approve(SARA, app_id))
    unchanged(world, "invalid_cpr",
              lambda: world.ledger.casework.approve(SARA, app_id, cpr="3213991234"))
    cpr = fresh_cpr()
    decision = world.ledger.casework.approve(SARA, app_id, cpr=cpr)
    assert world.ledger.casework.card(SARA, decision.card_number or "").cpr_masked == (
        f"{cpr[:6]}-xxxx")
    assert world.ledger.casework.application(SARA, app_id).cpr_masked == f"{cpr[:6]}-xxxx"
    assert all(cpr not in str(r["details_json"]) for r in world.rows("audit_log"))


def test_reject_sends_the_reason_in_plain_words(world: World) -> None:
    app_id = world.apply("sms", LONE_PHONE, cpr=fresh_cpr())
    unchanged(world, "reason_required", lambda: world.ledger.casework.reject(SARA, app_id, " "))
    decision = world.ledger.casework.reject(SARA, app_id,
                                            "Du har arbejdet for meget det seneste år")
    assert (decision.status, decision.card_number, decision.message_queued) == (
        "rejected", None, True)
    [(text, _, _)] = world.ledger.conversations.recent_outbox(LONE_PHONE)
    assert "ikke godkendt" in text and "Aarhus Kommune" in text
    assert "Begrundelse: Du har arbejdet for meget det seneste år." in text
    detail = world.ledger.casework.application(SARA, app_id)
    assert (detail.status, detail.decision_reason) == (
        "rejected", "Du har arbejdet for meget det seneste år")
    assert world.rows("cards", municipality_code="751") and len(world.rows("cards")) == 2


def test_deciding_twice_is_a_conflict_and_changes_nothing(world: World) -> None:
    approved = world.apply("sms", LONE_PHONE, cpr=fresh_cpr())
    world.ledger.casework.approve(SARA, approved)
    unchanged(world, "application_decided", lambda: world.ledger.casework.approve(SARA, approved))
    unchanged(world, "application_decided",
              lambda: world.ledger.casework.reject(SARA, approved, "nej"))
    rejected = world.apply("sms", "+4522334466", cpr=fresh_cpr())
    world.ledger.casework.reject(SARA, rejected, "nej")
    unchanged(world, "application_decided", lambda: world.ledger.casework.approve(SARA, rejected))


def test_two_clicks_at_once_issue_one_card(world: World) -> None:
    app_id = world.apply("sms", LONE_PHONE, cpr=fresh_cpr())
    outcomes: list[object] = []
    gate = threading.Barrier(2)

    def click() -> None:
        gate.wait()
        try:
            outcomes.append(world.ledger.casework.approve(SARA, app_id).card_number)
        except DomainError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("application_decided") == 1, outcomes
    [number] = [o for o in outcomes if o != "application_decided"]
    assert isinstance(number, str) and len(number) == 5
    assert len(world.rows("cards")) == 3  # Jens, Mette and one new card
    assert len(world.ledger.conversations.recent_outbox(LONE_PHONE)) == 1


def test_stop_means_no_message_but_the_decision_stands(world: World) -> None:
    app_id = world.apply("sms", LONE_PHONE, cpr=fresh_cpr())
    world.ledger.conversations.turn("sms", LONE_PHONE, lambda turn: turn.set_opted_out(True))
    decision = world.ledger.casework.approve(SARA, app_id)
    assert decision.card_number and not decision.message_queued and decision.outbox_id is None
    assert world.ledger.conversations.recent_outbox(LONE_PHONE) == []


def test_a_phone_held_by_another_card_holder_is_not_taken_over(world: World) -> None:
    app_id = world.apply("sms", JENS_PHONE, name="Lone Jensen", cpr=fresh_cpr())
    decision = world.ledger.casework.approve(SARA, app_id)
    assert not decision.contact_linked
    assert world.ledger.casework.card(SARA, decision.card_number or "").contacts == ()
    assert [c.kind for c in world.ledger.casework.card(SARA, world.jens).contacts] == [
        "phone", "telegram"]
    [(text, _, _)] = world.ledger.conversations.recent_outbox(JENS_PHONE)
    assert f"LINK {decision.card_number} {decision.link_code} her" in text


def test_an_application_without_municipality_is_the_admins(world: World) -> None:
    app_id = world.apply("sms", LONE_PHONE, cpr=fresh_cpr(), municipality=None)
    assert world.ledger.casework.applications(SARA) == []
    refused("application_not_found", lambda: world.ledger.casework.application(SARA, app_id))
    unchanged(world, "application_needs_municipality",
              lambda: world.ledger.casework.approve(ADA, app_id))
    decision = world.ledger.casework.approve(ADA, app_id, municipality_code="751")
    assert world.ledger.casework.card(SARA, decision.card_number or "").municipality_code == "751"


def test_consultant_may_not_see_or_decide_applications(world: World) -> None:
    app_id = world.apply("sms", LONE_PHONE, cpr=fresh_cpr())
    for call in (lambda: world.ledger.casework.applications(OLE),
                 lambda: world.ledger.casework.application(OLE, app_id),
                 lambda: world.ledger.casework.approve(OLE, app_id),
                 lambda: world.ledger.casework.reject(OLE, app_id, "nej")):
        unchanged(world, "not_allowed_for_role", call)


@pytest.mark.parametrize("action", ["application", "approve", "reject"])
def test_another_municipality_gets_not_found(world: World, action: str) -> None:
    app_id = world.apply("sms", LONE_PHONE, cpr=fresh_cpr())
    calls = {
        "application": lambda i: world.ledger.casework.application(KIM, i),
        "approve": lambda i: world.ledger.casework.approve(KIM, i),
        "reject": lambda i: world.ledger.casework.reject(KIM, i, "nej"),
    }
    hidden = unchanged(world, "application_not_found", lambda: calls[action](app_id))
    missing = refused("application_not_found", lambda: calls[action](app_id + 999))
    assert hidden.message == missing.message
    assert world.ledger.casework.applications(KIM) == []
