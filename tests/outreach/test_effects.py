"""Overblik's outreach table: per rule, messages sent and what followed within 7 days (an
application sent, a report confirmed, a JOB message), counted only after the message and
only within the municipality asked about."""

from __future__ import annotations

from ledger import PostReport
from outreach.store import pauses
from tests.ledger.casework_support import JENS_PHONE, METTE_PHONE, World
from tests.ledger.support import ADMIN
from tests.outreach.support import COFFEE_PHONE, STRANGER, only, reserve, sent, set_cap, set_state


def _effects(world: World, municipality: str | None = None) -> dict[str, tuple[int, ...]]:
    return {e.rule: (e.sent, e.skipped, e.applications, e.confirmed, e.job_requests)
            for e in world.ledger.outreach.effects(municipality)}


def test_what_followed_each_rule(world: World) -> None:
    only(world, "unconfirmed_report", "unfinished_application", "never_used")
    set_cap(world, 2025, 10_000)
    report = reserve(world, world.jens, 600)
    set_state(world, "sms", COFFEE_PHONE,
              {"flow": "report_wage", "asking": "confirm", "pending": [{"id": report}]})
    set_state(world, "sms", STRANGER, {"flow": "apply_card", "asking": "name", "slots": {}})
    world.say("sms", METTE_PHONE, "JOB 2200")  # before any message: not an effect
    world.clock.advance(hours=24)
    assert {o.rule for o in sent(world)} == {"unconfirmed_report", "unfinished_application"}
    world.clock.advance(hours=2)
    world.ledger.post_report(PostReport(report_id=report), actor=ADMIN)  # the employer's JA
    world.apply("sms", STRANGER)  # finished the application
    assert _effects(world)["unconfirmed_report"] == (1, 0, 0, 1, 0)
    assert _effects(world)["unfinished_application"] == (1, 0, 1, 0, 0)
    world.clock.advance(days=55)  # 8 weeks after the grant: Mette never used her card
    assert [o.recipient for o in sent(world) if o.rule == "never_used"] == [METTE_PHONE]
    assert _effects(world)["never_used"][4] == 0
    world.clock.advance(days=2)
    world.say("sms", METTE_PHONE, "JOB 2200")
    assert _effects(world)["never_used"][4] == 1
    assert "never_used" in _effects(world, "101") and "never_used" not in _effects(world, "751")


def test_the_persons_access_export_names_outreach(world: World) -> None:
    from tests.outreach.support import set_cap as cap

    only(world, "new_year")
    cap(world, 2026, 43_000)
    world.say("sms", JENS_PHONE, "INGEN PÅMINDELSER")
    world.ledger.conversations.turn("sms", JENS_PHONE, lambda turn: turn.within(
        lambda uow: pauses.set_reminders(uow.session, turn.conversation_id, False, uow.now)))
    sent(world)
    export = world.ledger.privacy.export(cpr=world.jens_cpr)
    assert export is not None
    rows = export["outreach"]["messages"]
    assert [(r["rule"], r["status"], r["reason"]) for r in rows] == [
        ("new_year", "skipped", "no_reminders")]
    assert len(export["outreach"]["reminders_off_in_conversations"]) == 1
