"""Retention on SQLite and PostgreSQL: old conversation texts go, the books stay, twice is once."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from db.commands import Actor
from privacy import ERASED
from tests.ledger.privacy_support import STRANGER_PHONE, World, build_world
from tests.ledger.support import dump_tables, world_fixture

ACTOR = Actor(name="test-retention", channel="system")
DAYS = 365


world = world_fixture(build_world)


def _age_and_add_recent(world: World) -> None:
    """Moves 400 days on, then the stranger writes again (recent, must survive)."""
    world.clock.advance(days=400)
    world.say("sms", STRANGER_PHONE, "SM-recent", "jeg er her igen", "Velkommen tilbage.")


def test_retention_anonymises_old_texts_and_keeps_the_books(world: World) -> None:
    _age_and_add_recent(world)
    kept_before = world.kept()
    audit_before = world.rows("audit_log")
    privacy = world.ledger.privacy

    preview = privacy.run_retention(older_than_days=DAYS, actor=ACTOR, dry_run=True)
    everything_before = dump_tables(world.url)
    assert preview.dry_run and preview.total > 0
    assert dump_tables(world.url) == everything_before, "a dry run changed something"

    report = privacy.run_retention(older_than_days=DAYS, actor=ACTOR)
    assert not report.dry_run
    # What the dry run promised is what the run did.
    assert (report.transcript_messages, report.outbox_messages, report.conversation_states,
            report.applications) == (preview.transcript_messages, preview.outbox_messages,
                                     preview.conversation_states, preview.applications)
    assert report.cutoff == world.clock.now - dt.timedelta(days=DAYS)

    transcript = world.rows("transcript_messages")
    old = [m for m in transcript if m["provider_message_id"] != "SM-recent"
           and not (m["direction"] == "out" and m["text"] == "Velkommen tilbage.")]
    recent = [m for m in transcript if m not in old]
    assert len(old) == 6 and len(recent) == 2
    assert {m["text"] for m in old} == {ERASED}
    assert all(m["replies_json"] in (None, "[]") for m in old)
    assert [m["text"] for m in recent] == ["jeg er her igen", "Velkommen tilbage."]
    assert json.loads(recent[0]["replies_json"]) == ["Velkommen tilbage."]
    assert report.transcript_messages == len(old)

    outbox = {m["id"]: m for m in world.rows("outbox")}
    sent = [m for m in outbox.values() if m["status"] == "sent"]
    pending = [m for m in outbox.values() if m["status"] == "pending"]
    assert len(sent) == 1 and sent[0]["text"] == ERASED and sent[0]["buttons_json"] == "[]"
    assert sent[0]["recipient"] == "+4520304050"  # who it went to stays (delivery history)
    # Messages still waiting to go out are never anonymised, however old.
    assert len(pending) == 2 and ERASED not in {m["text"] for m in pending}
    assert report.outbox_messages == 1

    states = {c["id"]: json.loads(c["state_json"]) for c in world.rows("conversations")}
    assert states[world.jens_sms_conversation] == {}
    assert states[world.jens_telegram_conversation] == {}
    assert states[world.stranger_conversation]["flow"]["slots"]["said"] == "jeg er her igen"
    assert report.conversation_states == 2

    applications = {a["id"]: a for a in world.rows("card_applications")}
    decided = json.loads(applications[world.jens_application]["answers_json"])
    assert decided["helper"] == decided["job_wishes"] == decided["benefit"] == ERASED
    assert decided["address"] == ERASED and decided["contact"] == ERASED
    assert decided["consent"] is True and decided["channel"] == "telegram"
    assert decided["anonymised"] is True
    assert applications[world.jens_application]["status"] == "approved"
    undecided = json.loads(applications[world.stranger_application]["answers_json"])
    assert undecided["job_wishes"] == ["have"] and "anonymised" not in undecided
    assert report.applications == 1

    # The books: not one row of the ledger's tables changed; the audit log only grew by one.
    assert world.kept() == kept_before
    audit_after = world.rows("audit_log")
    assert audit_after[:len(audit_before)] == audit_before
    [added] = audit_after[len(audit_before):]
    assert (added["action"], added["entity_type"], added["actor"]) == (
        "retention.run", "retention", "test-retention")
    assert json.loads(added["details_json"])["total"] == report.total
    assert world.rows("citizens")[0]["name"] == "Jens Testesen"
    assert len(world.rows("citizen_contacts")) == 1
    assert len(world.rows("escalation_notes")) == 1

    # Idempotent: the second run finds nothing, changes nothing, writes no audit row.
    everything = dump_tables(world.url)
    again = privacy.run_retention(older_than_days=DAYS, actor=ACTOR)
    assert again.total == 0
    assert dump_tables(world.url) == everything


def test_nothing_younger_than_the_period_is_touched(world: World) -> None:
    world.clock.advance(days=DAYS - 1)
    before = dump_tables(world.url)
    report = world.ledger.privacy.run_retention(older_than_days=DAYS, actor=ACTOR)
    assert report.total == 0
    assert dump_tables(world.url) == before


def test_an_anonymised_dead_message_is_not_sent_again(world: World) -> None:
    world.execute("UPDATE outbox SET status = 'dead' WHERE status = 'pending'")
    world.clock.advance(days=DAYS + 1)
    report = world.ledger.privacy.run_retention(older_than_days=DAYS, actor=ACTOR)
    assert report.outbox_messages == 3
    dead = [m for m in world.rows("outbox") if m["status"] == "dead"]
    assert dead and all(m["text"] == ERASED for m in dead)
    assert world.ledger.conversations.requeue_outbox(dead[0]["id"]) is False
    assert all(m["status"] != "pending" for m in world.rows("outbox"))


def test_a_period_shorter_than_a_day_is_refused(world: World) -> None:
    with pytest.raises(ValueError):
        world.ledger.privacy.run_retention(older_than_days=0, actor=ACTOR)
