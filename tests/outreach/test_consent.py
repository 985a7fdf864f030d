"""Consent and restraint, enforced in one place (outreach/consent.py): quiet hours, STOP and
START, INGEN PÅMINDELSER, the weekly limit, deactivated cards, changed or unlinked numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from outreach.consent import next_allowed, quiet_hours, refusal
from outreach.store import pauses
from outreach.store.records import Candidate, ConsentFacts, Recipient
from tests.ledger.casework_support import JENS_PHONE, JENS_TELEGRAM, KIM, METTE_PHONE, SARA, World
from tests.outreach.support import STRANGER, at_local, only, outbox_to, rows, sent, set_cap, sweep

NEW_PHONE = "+4526665544"


def _opt(world: World, channel: str, address: str, *, out: bool) -> None:
    def write(turn: Any) -> None:
        turn.set_opted_out(out)
        turn.save_state()
    world.ledger.conversations.turn(channel, address, write)


def _reminders(world: World, channel: str, address: str, *, on: bool) -> None:
    world.ledger.conversations.turn(channel, address, lambda turn: turn.within(
        lambda uow: pauses.set_reminders(uow.session, turn.conversation_id, on, uow.now)))


def test_quiet_hours_hold_messages_until_nine_in_the_morning(world: World) -> None:
    only(world, "new_year")
    at_local(world, dt.date(2025, 6, 16), 20, 5)
    set_cap(world, 2026, 43_000)
    report = sweep(world)
    assert report.quiet and report.outcomes == []
    at_local(world, dt.date(2025, 6, 17), 8, 59)
    assert sent(world) == []
    at_local(world, dt.date(2025, 6, 17), 9, 0)
    assert {o.recipient for o in sent(world)} == {JENS_PHONE, METTE_PHONE}


def test_quiet_hours_in_danish_time_across_summer_time() -> None:
    winter = dt.datetime(2025, 1, 15, 7, 59, tzinfo=dt.UTC)  # 08:59 in Copenhagen
    assert quiet_hours(winter) and not quiet_hours(winter + dt.timedelta(minutes=1))
    summer = dt.datetime(2025, 7, 15, 18, 0, tzinfo=dt.UTC)  # 20:00 in Copenhagen
    assert quiet_hours(summer) and not quiet_hours(summer - dt.timedelta(seconds=1))
    assert next_allowed(summer) == dt.datetime(2025, 7, 16, 7, 0, tzinfo=dt.UTC)


def test_stop_silences_every_rule_and_start_resumes(world: World) -> None:
    only(world, "new_year", "never_used")
    world.say("telegram", JENS_TELEGRAM, "hej")
    _opt(world, "telegram", JENS_TELEGRAM, out=True)  # STOP on one of his channels
    set_cap(world, 2026, 43_000)
    assert {o.recipient for o in sent(world)} == {METTE_PHONE}
    skipped = rows(world, status="skipped")
    assert [(r["rule"], r["reason"]) for r in skipped] == [("new_year", "stop")]
    assert outbox_to(world, JENS_PHONE) == [] and outbox_to(world, JENS_TELEGRAM) == []
    _opt(world, "telegram", JENS_TELEGRAM, out=False)  # START
    world.clock.advance(days=56)
    assert {o.recipient for o in sent(world)} >= {JENS_TELEGRAM}


def test_no_reminders_stops_reminders_but_not_status(world: World) -> None:
    only(world, "never_used", "application_in_review")
    world.say("sms", STRANGER, "jeg vil søge")
    application = world.apply("sms", STRANGER)
    _reminders(world, "sms", STRANGER, on=False)
    world.say("sms", METTE_PHONE, "hej")
    _reminders(world, "sms", METTE_PHONE, on=False)
    world.ledger.casework.open_application(SARA, application)
    assert [(o.rule, o.recipient) for o in sent(world)] == [("application_in_review", STRANGER)]
    world.clock.advance(days=56)
    assert [(o.rule, o.recipient) for o in sent(world)] == [("never_used", JENS_PHONE)]
    assert ("never_used", "no_reminders") in {(r["rule"], r["reason"])
                                             for r in rows(world, status="skipped")}
    _reminders(world, "sms", METTE_PHONE, on=True)  # PÅMINDELSER: on again
    world.clock.advance(days=91)
    assert METTE_PHONE in {o.recipient for o in sent(world)}


def test_at_most_two_a_week_then_the_rest_waits(world: World) -> None:
    only(world, "new_year", "never_used")
    world.clock.advance(days=56)
    set_cap(world, 2025, 10_000)
    set_cap(world, 2026, 43_000)  # three messages due for each: two new years, never used
    first = [(o.rule, o.occasion) for o in sent(world) if o.recipient == METTE_PHONE]
    assert first == [("new_year", "2025"), ("new_year", "2026")]
    world.clock.advance(days=6, hours=23)
    assert [o for o in sent(world) if o.recipient == METTE_PHONE] == []
    world.clock.advance(hours=1)  # a week after the first two: the third goes
    assert [o.rule for o in sent(world) if o.recipient == METTE_PHONE] == ["never_used"]
    assert rows(world, status="skipped") == []  # held back, never dropped


def test_a_deactivated_card_gets_no_job_or_cap_messages(world: World) -> None:
    only(world, "new_year", "never_used", "cap_thresholds")
    world.ledger.casework.deactivate(SARA, world.jens, "flyttet")
    set_cap(world, 2026, 43_000)
    world.clock.advance(days=56)
    assert {o.recipient for o in sent(world)} == {METTE_PHONE}
    reasons = {(r["rule"], r["reason"]) for r in rows(world, status="skipped")}
    assert ("never_used", "card_not_active") in reasons
    assert outbox_to(world, JENS_PHONE) == []


def test_a_changed_number_gets_nothing_the_new_one_does(world: World) -> None:
    only(world, "new_year")
    world.ledger.casework.unlink_contact(SARA, world.jens, "sms", JENS_PHONE)
    world.ledger.casework.unlink_contact(SARA, world.jens, "telegram", JENS_TELEGRAM)
    world.ledger.casework.link_contact(SARA, world.jens, "sms", NEW_PHONE)
    world.ledger.casework.unlink_contact(KIM, world.mette, "sms", METTE_PHONE)
    set_cap(world, 2026, 43_000)
    assert [o.recipient for o in sent(world)] == [NEW_PHONE]
    assert outbox_to(world, JENS_PHONE) == [] and outbox_to(world, METTE_PHONE) == []
    assert ("new_year", "no_linked_contact") in {(r["rule"], r["reason"])
                                                for r in rows(world, status="skipped")}


def test_the_policy_on_its_own() -> None:
    now = dt.datetime(2025, 6, 16, 12, tzinfo=dt.UTC)
    to = Recipient("sms", METTE_PHONE, None)
    card = Candidate("never_used", "card", 1, "p0")
    status = Candidate("application_in_review", "conversation", 1, "a1")

    def facts(**changes: Any) -> ConsentFacts:
        values: dict[str, Any] = {"recipient": to, "opted_out": False, "reminders_off": False,
                                  "card_status": "active", "sent_last_week": 0, "now": now}
        values.update(changes)
        return ConsentFacts(**values)

    assert refusal(card, facts()) is None
    assert refusal(card, facts(sent_last_week=2)) is not None
    stopped = refusal(card, facts(opted_out=True))
    assert stopped is not None and stopped.reason == "stop" and not stopped.later
    assert refusal(status, facts(reminders_off=True)) is None
    assert refusal(card, facts(reminders_off=True)) is not None
    assert refusal(card, facts(card_status="deactivated")) is not None
    assert refusal(card, facts(recipient=None)) is not None
    night = refusal(card, facts(now=now.replace(hour=22)))
    assert night is not None and night.later
