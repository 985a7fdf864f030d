"""The console inbox through `ledger.casework`, on SQLite and PostgreSQL: order, scope, the
merged and redacted transcript, take, reply through the outbox, notes, hand back, resolve."""

from __future__ import annotations

import json

import pytest

from casework.records import TranscriptEntry
from staff.principal import StaffPrincipal
from tests.ledger.casework_support import (
    ADA,
    JENS_PHONE,
    JENS_TELEGRAM,
    KIM,
    OLE,
    SARA,
    World,
    make_world,
    refused,
    unchanged,
)
from tests.ledger.support import world_fixture

world = world_fixture(make_world)


STRANGER = "+4560606060"


def test_inbox_puts_urgent_first_then_oldest_and_scopes_by_municipality(world: World) -> None:
    calm = world.escalate("sms", JENS_PHONE)
    world.clock.advance(minutes=30)
    stranger_calm = world.escalate("sms", STRANGER)
    world.clock.advance(minutes=5)
    urgent = world.escalate("telegram", JENS_TELEGRAM, urgent=True, reason="crisis:suicide",
                            text="jeg kan ikke mere")
    world.clock.advance(minutes=10)

    listed = world.ledger.casework.inbox(SARA)
    assert [item.id for item in listed] == [urgent, calm]
    first, second = listed
    assert first.urgent and first.reason == "crisis:suicide" and first.channel == "telegram"
    assert first.preview == "jeg kan ikke mere" and first.waiting_seconds == 10 * 60
    assert second.waiting_seconds == 45 * 60 and second.status == "waiting"
    assert (second.card_number, second.holder_name) == (world.jens, "Jens Hansen")
    assert second.municipality_code == "751" and second.owner is None
    # Nobody else's: København sees none of it, the unknown sender is the admin's only.
    assert world.ledger.casework.inbox(KIM) == []
    assert [item.id for item in world.ledger.casework.inbox(ADA)] == [urgent, calm, stranger_calm]
    # The consultant of Aarhus sees Aarhus's conversations too.
    assert [item.id for item in world.ledger.casework.inbox(OLE)] == [urgent, calm]


def test_preview_is_redacted_and_short(world: World) -> None:
    eid = world.escalate("sms", JENS_PHONE, text="hjælp " + world.jens_cpr + " " + "x" * 200)
    [item] = world.ledger.casework.inbox(SARA)
    assert item.id == eid and world.jens_cpr not in item.preview
    assert item.preview.startswith("hjælp [CPR] xxx") and len(item.preview) == 80


def test_transcript_merges_the_citizens_channels_by_time_and_redacts_cpr(world: World) -> None:
    world.say("sms", JENS_PHONE, "hej fra sms")
    world.clock.advance(minutes=1)
    world.say("telegram", JENS_TELEGRAM, f"mit cpr er {world.jens_cpr[:6]}-{world.jens_cpr[6:]}")
    world.clock.advance(minutes=1)
    world.say("web", JENS_PHONE, "hej fra web")
    world.clock.advance(minutes=1)
    world.say("sms", STRANGER, "en andens besked")
    eid = world.escalate("sms", JENS_PHONE)

    detail = world.ledger.casework.escalation(SARA, eid)
    texts = [(e.channel, e.direction, e.text) for e in detail.transcript]
    assert texts == [
        ("sms", "in", "hej fra sms"), ("sms", "out", "Hej!"),
        ("telegram", "in", "mit cpr er [CPR]"), ("telegram", "out", "Hej!"),
        ("web", "in", "hej fra web"), ("web", "out", "Hej!"),
        ("sms", "in", "kan jeg tale med et menneske"), ("sms", "out", "Hej!"),
    ]
    assert len(detail.conversation_ids) == 3
    assert world.jens_cpr not in repr(detail) and JENS_PHONE not in repr(detail)
    assert detail.address_masked == "+45 xx xx xx 50"
    assert detail.last_message_id == max(e.id for e in detail.transcript)
    assert (detail.card_number, detail.holder_name) == (world.jens, "Jens Hansen")


def test_an_unlinked_sender_gets_only_their_own_conversation(world: World) -> None:
    world.say("sms", STRANGER, "første")
    world.say("telegram", "999", "en anden person")
    eid = world.escalate("sms", STRANGER)
    detail = world.ledger.casework.escalation(ADA, eid)
    assert [e.text for e in detail.transcript if e.direction == "in"] == [
        "første", "kan jeg tale med et menneske"]
    assert detail.conversation_ids == (detail.conversation_id,)


def test_take_reply_note_and_delivery_status(world: World) -> None:
    eid = world.escalate("sms", JENS_PHONE)
    casework = world.ledger.casework
    casework.take(SARA, eid)
    [item] = casework.inbox(SARA)
    assert item.status == "taken" and item.owner == "Sara Holm" and item.owner_is_me
    assert casework.inbox(ADA)[0].owner_is_me is False

    outbox_id = casework.reply(SARA, eid, "Hej Jens, jeg ringer i morgen.")
    [queued] = world.rows("outbox", id=outbox_id)
    assert (queued["channel"], queued["recipient"], queued["status"]) == ("sms", JENS_PHONE,
                                                                          "pending")
    note_id = casework.add_note(SARA, eid, "Ringer kl. 10.")
    detail = casework.escalation(SARA, eid)
    reply = detail.transcript[-1]
    assert (reply.text, reply.from_staff, reply.author_label, reply.delivery) == (
        "Hej Jens, jeg ringer i morgen.", True, "Sara Holm", "pending")
    assert [(n.id, n.text, n.author_label) for n in detail.notes] == [
        (note_id, "Ringer kl. 10.", "Sara Holm")]

    world.ledger.conversations.mark_sent(outbox_id, "SM123")
    update = casework.messages_since(SARA, eid, detail.last_message_id)
    assert update.entries == () and update.status == "taken"
    assert update.deliveries == ((reply.id, "sent"),)
    # Audit: who took, replied and noted, as the console user.
    actions = [(r["actor"], r["channel"]) for a in ("escalation.take", "escalation.reply",
                                                     "escalation.note") for r in world.audit(a)]
    assert actions == [("console:sara", "console")] * 3


def test_polling_sees_new_messages_from_any_of_the_citizens_channels(world: World) -> None:
    eid = world.escalate("sms", JENS_PHONE)
    casework = world.ledger.casework
    last = casework.escalation(SARA, eid).last_message_id
    world.clock.advance(seconds=30)
    new_id = world.say("telegram", JENS_TELEGRAM, "er du der?")
    update = casework.messages_since(SARA, eid, last)
    assert [(e.id, e.text) for e in update.entries if e.direction == "in"] == [
        (new_id, "er du der?")]
    assert update.last_message_id > last
    assert casework.messages_since(SARA, eid, update.last_message_id).entries == ()


def test_reply_takes_a_waiting_escalation_and_is_refused_when_closed(world: World) -> None:
    eid = world.escalate("sms", JENS_PHONE)
    casework = world.ledger.casework
    casework.reply(SARA, eid, "Hej")
    assert casework.escalation(SARA, eid).status == "taken"
    assert world.rows("conversations", channel="sms", address=JENS_PHONE)[0]["handoff"] == "human"
    casework.resolve(SARA, eid)
    unchanged(world, "escalation_closed", lambda: casework.reply(SARA, eid, "hej igen"))
    unchanged(world, "escalation_closed", lambda: casework.resolve(SARA, eid))
    unchanged(world, "escalation_closed", lambda: casework.hand_back(SARA, eid))
    unchanged(world, "escalation_closed", lambda: casework.take(SARA, eid))


@pytest.mark.parametrize("action,outcome", [("hand_back", "handed_back"), ("resolve", "resolved")])
def test_hand_back_and_resolve_return_the_conversation_to_the_bot(
    world: World, action: str, outcome: str
) -> None:
    eid = world.escalate("sms", JENS_PHONE)
    casework = world.ledger.casework
    casework.take(SARA, eid)
    getattr(casework, action)(SARA, eid)
    [row] = world.rows("escalations", id=eid)
    assert (row["status"], row["outcome"]) == ("resolved", outcome)
    assert row["resolved_at"] is not None
    assert world.rows("conversations", channel="sms", address=JENS_PHONE)[0]["handoff"] == "bot"
    assert casework.inbox(SARA) == []
    assert [r["actor"] for r in world.audit(f"escalation.{outcome}")] == ["console:sara"]


def test_staff_text_is_checked_before_anything_changes(world: World) -> None:
    eid = world.escalate("sms", JENS_PHONE)
    casework = world.ledger.casework
    unchanged(world, "text_required", lambda: casework.reply(SARA, eid, "   "))
    unchanged(world, "text_too_long", lambda: casework.reply(SARA, eid, "x" * 1601))
    error = unchanged(world, "cpr_in_text",
                      lambda: casework.add_note(SARA, eid, f"cpr {world.jens_cpr}"))
    assert world.jens_cpr not in str(error)


def _calls(eid: int) -> list[tuple[str, object]]:
    return [
        ("escalation", lambda cw, p: cw.escalation(p, eid)),
        ("messages_since", lambda cw, p: cw.messages_since(p, eid, 0)),
        ("take", lambda cw, p: cw.take(p, eid)),
        ("reply", lambda cw, p: cw.reply(p, eid, "hej")),
        ("add_note", lambda cw, p: cw.add_note(p, eid, "note")),
        ("hand_back", lambda cw, p: cw.hand_back(p, eid)),
        ("resolve", lambda cw, p: cw.resolve(p, eid)),
    ]


@pytest.mark.parametrize("outsider", [KIM, StaffPrincipal(9, "eve", "Eve", "employer_consultant",
                                                          "101")], ids=["caseworker", "consultant"])
def test_another_municipality_gets_not_found_for_every_escalation_action(
    world: World, outsider: StaffPrincipal
) -> None:


    eid = world.escalate("sms", JENS_PHONE)
    missing = eid + 1000
    for name, call in _calls(eid):
        error = unchanged(world, "escalation_not_found",
                          lambda call=call: call(world.ledger.casework, outsider))  # type: ignore[misc]  # the default binds the loop variable
        # The same answer as for an id that does not exist: nothing reveals the escalation.
        absent = refused("escalation_not_found",
                         lambda name=name: dict(_calls(missing))[name](  # type: ignore[misc, operator]  # the default binds the loop variable; values are calls
                             world.ledger.casework, SARA))
        assert error.message == absent.message, name


def test_the_card_holders_municipality_decides_and_follows_a_transfer(world: World) -> None:
    eid = world.escalate("telegram", JENS_TELEGRAM)
    assert [i.id for i in world.ledger.casework.inbox(SARA)] == [eid]
    world.ledger.casework.transfer(SARA, world.jens, "101", "flyttet til København")
    assert world.ledger.casework.inbox(SARA) == []
    assert [i.id for i in world.ledger.casework.inbox(KIM)] == [eid]
    refused("escalation_not_found", lambda: world.ledger.casework.escalation(SARA, eid))


def test_consultant_may_handle_their_municipalitys_conversations(world: World) -> None:
    eid = world.escalate("sms", JENS_PHONE)
    world.ledger.casework.take(OLE, eid)
    world.ledger.casework.reply(OLE, eid, "Hej, det er Ole fra jobcentret.")
    world.ledger.casework.resolve(OLE, eid)
    assert world.rows("escalations", id=eid)[0]["outcome"] == "resolved"


def test_transcript_entries_are_plain_values(world: World) -> None:
    eid = world.escalate("sms", JENS_PHONE)
    entry = world.ledger.casework.escalation(SARA, eid).transcript[0]
    assert isinstance(entry, TranscriptEntry)
    with pytest.raises(AttributeError):
        entry.text = "changed"  # type: ignore[misc]  # the refused assignment is the test
    assert json.dumps(entry.text)
