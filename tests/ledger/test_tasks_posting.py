"""Posting and cancelling tasks through `ledger.tasks`, on SQLite and PostgreSQL: what is
stored, every refusal (nothing changes), cancelling (the holders are told), and expiry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from db.commands import Actor
from tests.ledger.casework_support import AARHUS, unchanged
from tests.ledger.support import TODAY, world_fixture
from tests.ledger.tasks_support import (
    EMPLOYER,
    FRIDAY,
    GARDEN_PHONE,
    HOLDER,
    LISE_PHONE,
    TaskWorld,
    make_task_world,
)

world = world_fixture(make_task_world)


def test_a_verified_employer_posts_a_task(world: TaskWorld) -> None:
    task = world.post(title="  Havearbejde ", postcode="8200", places=2,
                      expected_hours=Decimal("2.5"), description="Rive blade",
                      window_end=FRIDAY + dt.timedelta(days=2))
    assert (task.title, task.postcode, task.town, task.municipality_code) == (
        "Havearbejde", "8200", "Aarhus N", AARHUS)
    assert (task.places, task.places_taken, task.status, task.audience) == (2, 0, "open", "open")
    assert task.expected_hours == Decimal("2.5") and task.pay_per_hour_ore == 150_00
    assert task.employer_cvr == world.garden and task.employer_name == "Havehjælp Aarhus"
    assert task.window_start == FRIDAY and task.window_end == FRIDAY + dt.timedelta(days=2)
    assert task.created_at == world.clock.now
    assert world.ledger.tasks.task(task.id) == task
    [row] = world.rows("tasks")
    assert row["expected_hours_centi"] == 250 and row["actor"] == "employer"
    [audit] = world.audit("task.post")
    assert audit["entity_id"] == str(task.id) and audit["channel"] == "sms"
    assert world.outbox() == []  # posting tells no one; the digest and JOB do


def test_a_task_in_a_postcode_of_two_municipalities_is_filed_under_the_main_one(
        world: TaskWorld) -> None:
    from db.reference_data import postcode_municipalities

    shared = next(p for p in ("8381", "8330", "8600", "2600", "4000")
                  if len(postcode_municipalities(p)) > 1)
    task = world.post(postcode=shared)
    assert task.municipality_code == postcode_municipalities(shared)[0]


@pytest.mark.parametrize(("changes", "code"), [
    ({"employer_cvr": "unverified"}, "employer_not_verified"),
    ({"employer_cvr": "12345678"}, "invalid_cvr"),
    ({"title": "   "}, "task_title_required"),
    ({"title": "Havearbejde for 0101801234"}, "cpr_in_text"),
    ({"description": "ring 0101801234"}, "cpr_in_text"),
    ({"title": "x" * 201}, "text_too_long"),
    ({"place": "x" * 201}, "text_too_long"),
    ({"postcode": "0999"}, "unknown_postcode"),
    ({"postcode": "80000"}, "unknown_postcode"),
    ({"postcode": "abcd"}, "unknown_postcode"),
    ({"window_start": TODAY - dt.timedelta(days=1)}, "task_window_invalid"),
    ({"window_start": FRIDAY, "window_end": FRIDAY - dt.timedelta(days=1)},
     "task_window_invalid"),
    ({"window_start": TODAY + dt.timedelta(days=200),
      "window_end": TODAY + dt.timedelta(days=200)}, "task_window_invalid"),
    ({"expected_hours": Decimal(0)}, "task_hours_implausible"),
    ({"expected_hours": Decimal(17)}, "task_hours_implausible"),
    ({"expected_hours": Decimal("1.001")}, "task_hours_implausible"),
    ({"pay_per_hour_ore": 0}, "pay_per_hour_implausible"),
    ({"pay_per_hour_ore": 150}, "pay_per_hour_implausible"),
    ({"pay_per_hour_ore": 150_000_00}, "pay_per_hour_implausible"),
    ({"places": 0}, "places_out_of_range"),
    ({"places": 21}, "places_out_of_range"),
])
def test_bad_tasks_are_refused_in_danish_and_change_nothing(
        world: TaskWorld, changes: dict[str, object], code: str) -> None:
    if changes.get("employer_cvr") == "unverified":
        changes = {**changes, "employer_cvr": world.unverified}
    error = unchanged(world.base, code, lambda: world.post(**changes))
    assert not any(word in error.message.lower().split() for word in ("invalid", "error"))


def test_sixteen_hours_a_day_for_each_day_of_the_window(world: TaskWorld) -> None:
    task = world.post(window_end=FRIDAY + dt.timedelta(days=1), expected_hours=Decimal(32))
    assert task.expected_hours == 32
    error = unchanged(world.base, "task_hours_implausible", lambda: world.post(
        window_end=FRIDAY + dt.timedelta(days=1), expected_hours=Decimal(33)))
    assert "32 timer" in error.message


def test_the_employer_cancels_and_every_holder_is_told_without_blame(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    task = world.post(places=3)
    lise = tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
    jens = tasks.take_task(task.id, world.jens, via="sms", actor=HOLDER)
    tasks.confirm_assignment(jens.id, employer_cvr=world.garden, actor=EMPLOYER)
    before = len(world.outbox())
    cancelled = tasks.cancel_task(task.id, employer_cvr=world.garden, actor=EMPLOYER)
    assert (cancelled.status, cancelled.places_taken) == ("cancelled", 0)
    sent = world.outbox_since(before)
    assert {to for to, _ in sent} == {LISE_PHONE, "+4520304050", "7770001"}
    assert all("bliver ikke til noget" in text and "Havearbejde" in text for _, text in sent)
    assert GARDEN_PHONE not in {to for to, _ in sent}
    assert {a.status for a in (tasks.assignment(lise.id), tasks.assignment(jens.id))} == {
        "cancelled"}
    assert tasks.assignment(lise.id).cancelled_by == "employer"
    assert tasks.tasks_for_card(world.lise) == []
    unchanged(world.base, "task_not_open",
              lambda: tasks.cancel_task(task.id, employer_cvr=world.garden, actor=EMPLOYER))


def test_another_employer_cannot_cancel_or_even_see_it_is_theirs(world: TaskWorld) -> None:
    task = world.post()
    unchanged(world.base, "task_not_found",
              lambda: world.ledger.tasks.cancel_task(task.id, employer_cvr=world.cvr,
                                                     actor=EMPLOYER))
    unchanged(world.base, "task_not_found",
              lambda: world.ledger.tasks.cancel_task(9999, employer_cvr=world.garden,
                                                     actor=EMPLOYER))


def test_staff_cancel_names_the_staff_member_in_the_audit(world: TaskWorld) -> None:
    task = world.post()
    staff = Actor(name="console:sara", channel="console")
    assert world.ledger.tasks.cancel_task(task.id, employer_cvr=None,
                                          actor=staff).status == "cancelled"
    [audit] = world.audit("task.cancel")
    assert audit["actor"] == "console:sara" and '"by": "staff"' in audit["details_json"]


def test_expiry_ends_unfilled_tasks_only_after_their_window(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    empty = world.post(title="Ingen tog den")
    taken = world.post(title="Nogen tog den")
    later = world.post(title="Senere", window_start=FRIDAY + dt.timedelta(days=7),
                       window_end=FRIDAY + dt.timedelta(days=7))
    assignment = tasks.take_task(taken.id, world.lise, via="sms", actor=HOLDER)
    tasks.confirm_assignment(assignment.id, employer_cvr=world.garden, actor=EMPLOYER)
    assert tasks.expire_tasks() == 0
    world.clock.now = dt.datetime(2025, 6, 20, 21, tzinfo=dt.UTC)  # 23:00 on the last day
    assert tasks.expire_tasks() == 0
    world.clock.now = dt.datetime(2025, 6, 21, 9, tzinfo=dt.UTC)
    assert tasks.expire_tasks() == 1
    assert tasks.task(empty.id).status == "expired"
    assert tasks.task(taken.id).status == "filled"  # waits for the hours
    assert tasks.task(later.id).status == "open"
    assert tasks.expire_tasks() == 0
    assert [t["ended_at"] is not None for t in world.rows("tasks")] == [True, False, False]


def test_an_unconfirmed_reservation_is_released_after_the_configured_time(
        world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    task = world.post(window_end=FRIDAY + dt.timedelta(days=7))
    assignment = tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
    assert tasks.task(task.id).status == "filled"
    world.clock.advance(hours=47)
    assert tasks.expire_tasks() == 0
    before = len(world.outbox())
    world.clock.advance(hours=2)
    assert tasks.expire_tasks() == 1
    released = tasks.assignment(assignment.id)
    assert released.status == "cancelled" and released.cancelled_by is None
    assert tasks.task(task.id).status == "open" and tasks.task(task.id).places_taken == 0
    [(to, text)] = world.outbox_since(before)
    assert to == LISE_PHONE and "reservation er sluppet" in text
    # The place is free again for someone else (and for Lise herself).
    assert [t.id for t in tasks.tasks_for_card(world.jens, postcode="8000")] == [task.id]
    assert tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER).status == "reserved"
