"""Access requests and erasure, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from db.commands import Actor
from db.errors import InvalidCpr
from db.vault import mask_cpr
from ledger import DeactivateCard
from privacy import ERASED
from tests.ledger.privacy_support import (
    JENS_PHONE,
    JENS_TELEGRAM,
    STRANGER_PHONE,
    World,
    build_world,
)
from tests.ledger.support import ADMIN, dump_tables, fresh_cpr, world_fixture

ACTOR = Actor(name="test-dpo", channel="cli")


world = world_fixture(build_world)


def test_the_export_holds_everything_about_the_person_and_nothing_else(world: World) -> None:
    found = world.ledger.privacy.export(cpr=world.cpr)
    assert found is not None
    text = json.dumps(found, ensure_ascii=False)
    assert world.cpr not in text and f"{world.cpr[:6]}-{world.cpr[6:]}" not in text
    assert found["cpr"] == mask_cpr(world.cpr)
    assert found["citizen"]["name"] == "Jens Testesen"
    assert found["citizen"]["municipality_code"] == "751"
    assert [(c["kind"], c["address"]) for c in found["contacts"]] == [("phone", JENS_PHONE)]
    [card] = found["cards"]
    assert card["number"] == world.card and card["status"] == "active"
    assert [e["kind"] for e in card["events"]] == ["issued"]
    assert card["link_code_issued_at"] is not None and "code_hash" not in json.dumps(card)
    [employment] = found["employments"]
    assert employment["employer_cvr"] == world.cvr and employment["weekly_hours"] == "4.00"
    [report] = found["wage_reports"]
    assert (report["amount"], report["employer_name"]) == ("600.00", "Café Privat ApS")
    assert [e["kind"] for e in report["entries"]] == ["post_direct"]
    [balance] = found["balances"]
    assert (balance["year"], balance["posted_ore"]) == (2025, 600_00)
    [application] = found["applications"]
    assert application["id"] == world.jens_application
    assert application["cpr"] == mask_cpr(world.cpr)
    assert application["answers"]["helper"] == "min søster Lone"
    assert application["card_number"] == world.card
    conversations = {(c["channel"], c["address"]): c for c in found["conversations"]}
    assert set(conversations) == {("sms", JENS_PHONE), ("telegram", JENS_TELEGRAM)}
    sms = conversations[("sms", JENS_PHONE)]
    assert [m["text"] for m in sms["messages"]] == [
        "hej jeg hedder Jens og bor på Vestergade 3", "Hej Jens, hvad kan jeg hjælpe med?"]
    assert sms["state_fields"] == ["flow"] and "state_json" not in sms
    [escalation] = sms["escalations"]
    assert [n["text"] for n in escalation["notes"]] == ["Ringede til Jens om hans søster"]
    assert {m["status"] for m in found["outbox"]} == {"sent", "pending"}
    assert len(found["outbox"]) == 3
    actions = {(a["action"], a["entity_type"]) for a in found["audit_log"]}
    assert {("card.issue", "card"), ("employment.create", "employment"),
            ("wage_report.create", "wage_report")} <= actions
    # The stranger is in none of it.
    assert STRANGER_PHONE not in text and "Karen" not in text and "førtidspension" not in text


def test_export_by_phone_finds_a_person_without_a_cpr_number(world: World) -> None:
    found = world.ledger.privacy.export(phone="21 43 65 87")
    assert found is not None and found["citizen"] is None and found["cpr"] is None
    [conversation] = found["conversations"]
    assert conversation["address"] == STRANGER_PHONE
    assert "jeg hedder Karen og vil søge" in json.dumps(found, ensure_ascii=False)


def test_an_unknown_or_invalid_cpr_number(world: World) -> None:
    assert world.ledger.privacy.export(cpr=fresh_cpr()) is None
    with pytest.raises(InvalidCpr):
        world.ledger.privacy.export(cpr="3213901234")
    report = world.ledger.privacy.erase(cpr=fresh_cpr(), actor=ACTOR)
    assert not report.found


def test_a_dry_run_changes_nothing(world: World) -> None:
    before = dump_tables(world.url)
    report = world.ledger.privacy.erase(cpr=world.cpr, actor=ACTOR, dry_run=True)
    assert report.found and report.dry_run
    assert report.transcript_messages == 4 and report.contacts == 1
    assert dump_tables(world.url) == before


def test_erasure_keeps_the_books_and_the_name_while_the_card_is_active(world: World) -> None:
    kept = world.kept()
    audit_before = world.rows("audit_log")
    report = world.ledger.privacy.erase(cpr=world.cpr, actor=ACTOR)
    assert report.found and not report.dry_run
    assert (report.transcript_messages, report.conversations, report.outbox_messages,
            report.contacts, report.escalations_closed, report.applications,
            report.names) == (4, 2, 3, 1, 1, 1, 0)
    assert any(reason.startswith(f"name: kept while card {world.card}") for reason in report.kept)
    assert any("record of income" in reason for reason in report.kept)

    transcript = world.rows("transcript_messages")
    mine = [m for m in transcript if m["conversation_id"] != world.stranger_conversation]
    theirs = [m for m in transcript if m["conversation_id"] == world.stranger_conversation]
    assert {m["text"] for m in mine} == {ERASED}
    assert "jeg hedder Karen og vil søge" in {m["text"] for m in theirs}
    conversations = {c["id"]: c for c in world.rows("conversations")}
    for conversation_id in (world.jens_sms_conversation, world.jens_telegram_conversation):
        assert conversations[conversation_id]["address"] == f"{ERASED}{conversation_id}"
        assert conversations[conversation_id]["state_json"] == "{}"
    assert conversations[world.stranger_conversation]["address"] == STRANGER_PHONE
    assert world.rows("citizen_contacts") == []
    outbox = world.rows("outbox")
    assert all(m["text"] == ERASED and m["recipient"] == ERASED for m in outbox)
    assert sorted(m["status"] for m in outbox) == ["dead", "dead", "sent"]
    [escalation] = world.rows("escalations")
    assert (escalation["status"], escalation["outcome"]) == ("resolved", "erased")
    assert [n["text"] for n in world.rows("escalation_notes")] == [
        "Ringede til Jens om hans søster"]  # the municipality's case record
    [citizen] = world.rows("citizens")
    assert citizen["name"] == "Jens Testesen"
    applications = {a["id"]: a for a in world.rows("card_applications")}
    answers = json.loads(applications[world.jens_application]["answers_json"])
    assert answers["helper"] == ERASED and answers["consent"] is True
    assert applications[world.jens_application]["name"] == "Jens Testesen"
    assert json.loads(applications[world.stranger_application]["answers_json"])["job_wishes"] \
        == ["have"]

    assert world.kept() == kept
    audit_after = world.rows("audit_log")
    assert audit_after[:len(audit_before)] == audit_before
    [added] = audit_after[len(audit_before):]
    assert (added["action"], added["entity_type"]) == ("person.erase", "citizen")
    assert world.cpr not in added["details_json"]

    # The bot no longer knows the number; the books still answer for the card.
    assert world.ledger.balance(world.card, 2025).posted_ore == 600_00
    after = world.ledger.privacy.export(cpr=world.cpr)
    assert after is not None and after["contacts"] == []
    assert JENS_PHONE not in json.dumps(after)
    assert len(after["wage_reports"]) == 1

    # A second request erases nothing more (and is itself recorded).
    before_again = dump_tables(world.url)
    again = world.ledger.privacy.erase(cpr=world.cpr, actor=ACTOR)
    assert (again.transcript_messages, again.conversations, again.outbox_messages,
            again.contacts, again.applications, again.names) == (0, 0, 0, 0, 0, 0)
    after_again = dump_tables(world.url)
    assert {k: v for k, v in after_again.items() if k != "audit_log"} == \
        {k: v for k, v in before_again.items() if k != "audit_log"}


def test_the_name_goes_once_the_card_is_deactivated(world: World) -> None:
    world.ledger.deactivate_card(DeactivateCard(number=world.card, reason="flyttet"),
                                 actor=ADMIN)
    report = world.ledger.privacy.erase(cpr=world.cpr, actor=ACTOR)
    assert report.names == 1
    assert world.rows("citizens")[0]["name"] == ERASED
    application = {a["id"]: a for a in world.rows("card_applications")}[world.jens_application]
    assert application["name"] == ERASED and application["postcode"] is None
    assert application["status"] == "approved"  # the decision itself is kept
    assert not any(reason.startswith("name:") for reason in report.kept)


def test_an_undecided_application_is_kept_whole(world: World) -> None:
    report = world.ledger.privacy.erase(phone=STRANGER_PHONE, actor=ACTOR)
    assert report.found and report.transcript_messages == 2 and report.contacts == 0
    assert any(f"application {world.stranger_application}" in r for r in report.kept)
    application = {a["id"]: a for a in world.rows("card_applications")}[
        world.stranger_application]
    assert application["name"] == "Karen Fremmed" and application["status"] == "received"
    conversations = {c["id"]: c for c in world.rows("conversations")}
    assert conversations[world.stranger_conversation]["address"].startswith(ERASED)
    assert conversations[world.jens_sms_conversation]["address"] == JENS_PHONE
