"""Each outreach rule fires once, at the right time, and never to the wrong person
(SQLite and PostgreSQL). The world's clock starts on Monday 16 June 2025, 14:00 Danish time;
Jens (Aarhus) has phone and Telegram, Mette (København) a phone; both cards were issued then."""

from __future__ import annotations

import datetime as dt

import pytest

from db.errors import DomainError
from tests.ledger.casework_support import JENS_PHONE, KIM, METTE_PHONE, SARA, World
from tests.outreach.support import (
    COFFEE_PHONE,
    STRANGER,
    at_local,
    only,
    outbox_to,
    post,
    reserve,
    rows,
    sent,
    set_cap,
    set_state,
)


def test_cap_thresholds_once_each_whoever_posted(world: World) -> None:
    only(world, "cap_thresholds")
    set_cap(world, 2025, 10_000)
    post(world, world.jens, 7_900)
    assert sent(world) == []  # 79 %
    post(world, world.jens, 100)  # 80 % exactly
    first = sent(world)
    assert [(o.rule, o.occasion, o.recipient) for o in first] == [
        ("cap_thresholds", "2025:80", JENS_PHONE)]
    assert "8.000,00 kr." in first[0].text and "80 %" in first[0].text
    assert "2.000,00 kr." in first[0].text
    assert sent(world) == []  # once
    post(world, world.jens, 1_500)  # 95 %
    assert [o.occasion for o in sent(world)] == ["2025:95"]
    post(world, world.jens, 500)  # 100 %, a third message this week: held back
    assert sent(world) == []
    world.clock.advance(days=7)
    reached = sent(world)
    assert [o.occasion for o in reached] == ["2025:100"]
    assert "nået grænsen" in reached[0].text
    assert outbox_to(world, METTE_PHONE) == []  # never the wrong person


def test_cap_thresholds_crossed_at_once_send_the_highest_only(world: World) -> None:
    only(world, "cap_thresholds")
    set_cap(world, 2025, 10_000)
    post(world, world.mette, 9_600)
    told = sent(world)
    assert [(o.occasion, o.recipient) for o in told] == [("2025:95", METTE_PHONE)]
    skipped = {r["occasion"]: r["reason"] for r in rows(world, status="skipped")}
    assert skipped == {"2025:80": "covered"}
    post(world, world.mette, 100)  # 97 %: nothing new, and 80 % never comes later
    assert sent(world) == []


def test_new_year_once_per_year_to_every_active_card(world: World) -> None:
    only(world, "new_year")
    set_cap(world, 2025, 10_000)
    post(world, world.jens, 1_000)
    told = {o.recipient: o.text for o in sent(world)}
    assert set(told) == {JENS_PHONE, METTE_PHONE}
    assert "10.000,00 kr." in told[JENS_PHONE] and "9.000,00 kr. mere i 2025" in told[JENS_PHONE]
    assert "10.000,00 kr. mere i 2025" in told[METTE_PHONE]
    assert sent(world) == []
    set_cap(world, 2025, 10_500)  # a correction: no second message
    assert sent(world) == []
    world.clock.advance(days=8)
    set_cap(world, 2026, 43_000)  # next year's cap, set in advance
    told = {o.recipient: o.text for o in sent(world)}
    assert set(told) == {JENS_PHONE, METTE_PHONE}
    assert "43.000,00 kr. mere i 2026" in told[JENS_PHONE]


def test_new_year_ignores_old_and_demo_caps(world: World) -> None:
    only(world, "new_year")
    set_cap(world, 2026, 43_000)
    world.clock.advance(days=31)
    assert sent(world) == []  # set more than 30 days ago: first deployed now, say nothing


def test_never_used_after_eight_weeks_then_once_a_quarter(world: World) -> None:
    only(world, "never_used")
    set_cap(world, 2025, 10_000)
    post(world, world.jens, 500)  # Jens has used his card
    world.clock.advance(days=55)
    assert sent(world) == []
    world.clock.advance(days=1)  # 8 weeks after the grant
    told = sent(world)
    assert [o.recipient for o in told] == [METTE_PHONE]
    assert "JOB" in told[0].text
    assert sent(world) == []
    world.clock.advance(days=90)
    assert sent(world) == []
    world.clock.advance(days=1)  # a quarter later
    assert [o.recipient for o in sent(world)] == [METTE_PHONE]


def test_control_due_four_weeks_before_the_year_it_falls_due(world: World) -> None:
    only(world, "control_due")
    at_local(world, dt.date(2026, 12, 3), 12)
    assert sent(world) == []
    at_local(world, dt.date(2026, 12, 4), 12)  # issued 2025: due in 2027
    told = sent(world)
    assert sorted(o.recipient or "" for o in told) == sorted([JENS_PHONE, METTE_PHONE])
    assert "2027" in told[0].text and "ikke gøre noget" in told[0].text
    assert sent(world) == []
    world.ledger.casework.record_control(SARA, world.jens)  # controlled in 2026: due 2028
    at_local(world, dt.date(2027, 12, 4), 12)
    assert [(o.occasion, o.recipient) for o in sent(world)] == [("2028", JENS_PHONE)]


def test_unconfirmed_report_reminds_the_employer_after_a_day_and_before_expiry(
        world: World) -> None:
    only(world, "unconfirmed_report", "report_expiring")
    set_cap(world, 2025, 10_000)
    report = reserve(world, world.jens, 600)
    set_state(world, "sms", COFFEE_PHONE,
              {"flow": "report_wage", "asking": "confirm", "pending": [{"id": report}]})
    world.clock.advance(hours=23)
    assert sent(world) == []
    world.clock.advance(hours=1)
    told = sent(world)
    assert [(o.rule, o.recipient) for o in told] == [("unconfirmed_report", COFFEE_PHONE)]
    assert "600,00 kr." in told[0].text and world.jens in told[0].text and "JA" in told[0].text
    assert sent(world) == []
    world.clock.advance(days=4, hours=23)  # 5 days 23 hours after: 25 hours left
    assert sent(world) == []
    world.clock.advance(hours=1)  # 6 days after: one day before it runs out
    expiring = sent(world)
    assert [(o.rule, o.recipient) for o in expiring] == [("report_expiring", COFFEE_PHONE)]
    assert "23.06.2025 kl. 14.00" in expiring[0].text
    assert sent(world) == []
    assert outbox_to(world, JENS_PHONE) == []  # the card holder is not the one to answer


def test_a_confirmed_report_is_not_reminded(world: World) -> None:
    only(world, "unconfirmed_report")
    set_cap(world, 2025, 10_000)
    report = reserve(world, world.jens, 600)
    set_state(world, "sms", COFFEE_PHONE,
              {"flow": "report_wage", "asking": "confirm", "pending": [{"id": report}]})
    from ledger import PostReport
    from tests.ledger.support import ADMIN

    world.ledger.post_report(PostReport(report_id=report), actor=ADMIN)
    world.clock.advance(hours=25)
    assert sent(world) == []


def test_unfinished_application_one_reminder_a_day_later(world: World) -> None:
    only(world, "unfinished_application")
    set_state(world, "sms", STRANGER, {"flow": "apply_card", "asking": "name", "slots": {}})
    set_state(world, "sms", "+4528887766", {"flow": "faq"})  # another flow: nothing
    world.clock.advance(hours=23, minutes=59)
    assert sent(world) == []
    world.clock.advance(minutes=1)
    told = sent(world)
    assert [o.recipient for o in told] == [STRANGER]
    assert "sidste spørgsmål" in told[0].text
    world.clock.advance(hours=6)
    assert sent(world) == []
    world.clock.advance(days=3)
    assert sent(world) == []  # none after that


def test_application_status_when_a_caseworker_opens_it(world: World) -> None:
    only(world, "application_in_review")
    application = world.apply("sms", STRANGER)
    assert sent(world) == []  # received: the bot's own receipt said so
    with pytest.raises(DomainError):
        world.ledger.casework.open_application(KIM, application)  # København: not theirs
    assert sent(world) == []
    assert world.ledger.casework.open_application(SARA, application) is True
    told = sent(world)
    assert [o.recipient for o in told] == [STRANGER]
    assert "ser en medarbejder i kommunen" in told[0].text
    assert world.ledger.casework.open_application(SARA, application) is False
    assert sent(world) == []
