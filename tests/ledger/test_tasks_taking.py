"""Taking a place and what follows, through `ledger.tasks`, on SQLite and PostgreSQL: who is
told what (the employer learns first name and Frikort-ID only once the task is taken, the
holder learns the employer's phone only once it is confirmed), refusals that change nothing,
cancelling by either side without blame, no-shows, and STOP."""

from __future__ import annotations

import datetime as dt

from ledger import DeactivateCard
from tests.ledger.casework_support import JENS_PHONE, JENS_TELEGRAM, unchanged
from tests.ledger.support import ADMIN, world_fixture
from tests.ledger.tasks_support import (
    EMPLOYER,
    FRIDAY,
    GARDEN_PHONE,
    HOLDER,
    LISE_PHONE,
    TaskWorld,
    make_task_world,
    stop,
)

world = world_fixture(make_task_world)


def test_taking_reserves_a_place_and_tells_both_sides(world: TaskWorld) -> None:
    task = world.post()
    taken = world.ledger.tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
    assert (taken.status, taken.via, taken.helper, taken.card_number) == (
        "reserved", "sms", None, world.lise)
    assert taken.holder_first_name == "Lise" and taken.reserved_at == world.clock.now
    assert taken.confirmed_at is None and taken.wage_report_id is None
    assert (taken.task.places_taken, taken.task.status) == (1, "filled")
    to_employer, to_holder = world.outbox_since(0)
    assert to_employer == (
        GARDEN_PHONE, f"Lise (frikort {world.lise}) vil gerne tage opgaven Havearbejde "
                      f"(fre 20/6). Svar JA {taken.id} for at bekræfte.")
    assert to_holder[0] == LISE_PHONE
    assert "Du har reserveret opgaven Havearbejde hos Havehjælp Aarhus" in to_holder[1]
    assert f"AFMELD {taken.id}" in to_holder[1]
    # First name only: never the rest of the name, the phone, or the CPR number.
    assert "Marie" not in to_employer[1] and "Holm" not in to_employer[1]
    assert LISE_PHONE[3:] not in to_employer[1]
    [audit] = world.audit("task.take")
    assert audit["actor"] == "holder" and audit["entity_id"] == str(taken.id)


def test_a_message_to_every_linked_contact_but_none_to_stop(world: TaskWorld) -> None:
    task = world.post(places=2)
    stop(world, "telegram", JENS_TELEGRAM)
    world.ledger.tasks.take_task(task.id, world.jens, via="telegram", actor=HOLDER)
    assert [to for to, _ in world.outbox_since(0)] == [GARDEN_PHONE, JENS_PHONE]
    stop(world, "sms", GARDEN_PHONE)
    before = len(world.outbox())
    world.ledger.tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
    assert [to for to, _ in world.outbox_since(before)] == [LISE_PHONE]


def test_refusals_change_nothing(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    task = world.post()
    taken = tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
    unchanged(world.base, "task_already_taken",
              lambda: tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER))
    unchanged(world.base, "task_full",
              lambda: tasks.take_task(task.id, world.jens, via="sms", actor=HOLDER))
    unchanged(world.base, "task_not_found",
              lambda: tasks.take_task(9999, world.jens, via="sms", actor=HOLDER))
    unchanged(world.base, "card_not_found",
              lambda: tasks.take_task(task.id, "00000", via="sms", actor=HOLDER))
    world.ledger.deactivate_card(DeactivateCard(number=world.mette, reason="flyttet"),
                                 actor=ADMIN)
    other = world.post(title="Andet")
    unchanged(world.base, "card_not_active",
              lambda: tasks.take_task(other.id, world.mette, via="sms", actor=HOLDER))
    tasks.cancel_task(other.id, employer_cvr=world.garden, actor=EMPLOYER)
    unchanged(world.base, "task_not_open",
              lambda: tasks.take_task(other.id, world.jens, via="sms", actor=HOLDER))
    assert tasks.assignment(taken.id).status == "reserved"


def test_a_task_whose_window_is_over_cannot_be_taken(world: TaskWorld) -> None:
    task = world.post()
    world.clock.now = dt.datetime(2025, 6, 21, 9, tzinfo=dt.UTC)
    unchanged(world.base, "task_not_open",
              lambda: world.ledger.tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER))


def test_the_employer_confirms_and_both_get_the_practical_details(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    taken = tasks.take_task(world.post().id, world.lise, via="sms", actor=HOLDER)
    before = len(world.outbox())
    confirmed = tasks.confirm_assignment(taken.id, employer_cvr=world.garden, actor=EMPLOYER)
    assert confirmed.status == "confirmed" and confirmed.confirmed_at == world.clock.now
    to_holder, to_employer = world.outbox_since(before)
    assert to_holder == (LISE_PHONE, (
        "Opgaven Havearbejde er bekræftet. Sted: Vestergade 3, 8000 Aarhus C. Tid: fre 20/6, "
        "cirka 3 timer. Ring til Havehjælp Aarhus på 40 50 60 70, hvis der er noget."))
    assert to_employer[0] == GARDEN_PHONE
    assert f"Lise (frikort {world.lise}) kommer til opgaven Havearbejde" in to_employer[1]
    # Confirming again is a no-op that sends nothing.
    again = len(world.outbox())
    assert tasks.confirm_assignment(taken.id, employer_cvr=world.garden,
                                    actor=EMPLOYER).status == "confirmed"
    assert len(world.outbox()) == again
    assert len(world.audit("task_assignment.confirm")) == 1


def test_the_holder_is_not_given_a_phone_the_employer_does_not_have(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    task = world.post(employer_cvr=world.cvr)  # the café: its phone is +4531425364
    taken = tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
    tasks.confirm_assignment(taken.id, employer_cvr=world.cvr, actor=EMPLOYER)
    assert "31 42 53 64" in world.outbox_since(0)[2][1]


def test_only_the_task_s_employer_may_confirm_or_mark_a_no_show(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    taken = tasks.take_task(world.post().id, world.lise, via="sms", actor=HOLDER)
    unchanged(world.base, "assignment_not_found",
              lambda: tasks.confirm_assignment(taken.id, employer_cvr=world.cvr, actor=EMPLOYER))
    unchanged(world.base, "assignment_not_found",
              lambda: tasks.mark_no_show(taken.id, employer_cvr=world.cvr, actor=EMPLOYER))
    unchanged(world.base, "assignment_not_found",
              lambda: tasks.confirm_assignment(9999, employer_cvr=world.garden, actor=EMPLOYER))
    unchanged(world.base, "assignment_not_found", lambda: tasks.cancel_assignment(
        taken.id, by="employer", employer_cvr=world.cvr, actor=EMPLOYER))
    unchanged(world.base, "assignment_not_found", lambda: tasks.cancel_assignment(
        taken.id, by="holder", card_number=world.jens, actor=HOLDER))


def test_the_holder_cancels_without_blame_and_the_place_opens_again(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    task = world.post()
    taken = tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
    tasks.confirm_assignment(taken.id, employer_cvr=world.garden, actor=EMPLOYER)
    before = len(world.outbox())
    cancelled = tasks.cancel_assignment(taken.id, by="holder", card_number=world.lise,
                                        actor=HOLDER, reason="syg")
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "holder")
    assert (cancelled.task.status, cancelled.task.places_taken) == ("open", 0)
    [(to, text)] = world.outbox_since(before)
    assert to == GARDEN_PHONE
    assert text == (f"Lise (frikort {world.lise}) kan desværre ikke tage opgaven Havearbejde "
                    "alligevel. Pladsen er åben igen.")
    assert "syg" not in text  # the reason is for the audit log only
    assert [t.id for t in tasks.tasks_for_card(world.jens, postcode="8000")] == [task.id]
    unchanged(world.base, "assignment_not_active", lambda: tasks.cancel_assignment(
        taken.id, by="holder", actor=HOLDER))
    # Taking it again reopens the same assignment.
    again = tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
    assert again.id == taken.id and again.status == "reserved" and again.confirmed_at is None


def test_the_employer_cancels_one_place_and_the_holder_gets_a_plain_word(
        world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    taken = tasks.take_task(world.post().id, world.lise, via="sms", actor=HOLDER)
    before = len(world.outbox())
    tasks.cancel_assignment(taken.id, by="employer", employer_cvr=world.garden, actor=EMPLOYER)
    [(to, text)] = world.outbox_since(before)
    assert to == LISE_PHONE and "bliver ikke til noget alligevel" in text


def test_staff_cancel_tells_both_sides(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    taken = tasks.take_task(world.post().id, world.lise, via="sms", actor=HOLDER)
    before = len(world.outbox())
    tasks.cancel_assignment(taken.id, by="staff", actor=ADMIN)
    assert sorted(to for to, _ in world.outbox_since(before)) == sorted(
        [LISE_PHONE, GARDEN_PHONE])


def test_a_no_show_frees_the_place_and_is_final(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    task = world.post(window_end=FRIDAY + dt.timedelta(days=1))
    taken = tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
    tasks.confirm_assignment(taken.id, employer_cvr=world.garden, actor=EMPLOYER)
    before = len(world.outbox())
    marked = tasks.mark_no_show(taken.id, employer_cvr=world.garden, actor=EMPLOYER)
    assert marked.status == "no_show" and marked.ended_at == world.clock.now
    assert (marked.task.status, marked.task.places_taken) == ("open", 0)
    [(to, text)] = world.outbox_since(before)
    assert to == LISE_PHONE and "ikke blev til noget" in text
    error = unchanged(world.base, "assignment_not_active",
                      lambda: tasks.mark_no_show(taken.id, employer_cvr=world.garden,
                                                 actor=EMPLOYER))
    assert "meldt som udeblevet" in error.message
    unchanged(world.base, "task_already_taken",
              lambda: tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER))
    assert tasks.tasks_for_card(world.lise) == []


def test_assignments_per_card_and_per_employer(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    first = tasks.take_task(world.post(title="A", places=2).id, world.lise, via="sms",
                            actor=HOLDER)
    second = tasks.take_task(world.post(title="B").id, world.lise, via="sms", actor=HOLDER)
    third = tasks.take_task(first.task.id, world.jens, via="sms", actor=HOLDER)
    tasks.cancel_assignment(second.id, by="holder", actor=HOLDER)
    assert [a.id for a in tasks.assignments_for_card(world.lise)] == [first.id]
    assert [a.id for a in tasks.assignments_for_card(world.lise, active_only=False)] == [
        first.id, second.id]
    assert [a.id for a in tasks.assignments_for_employer(world.garden)] == [first.id, third.id]
    assert len(tasks.assignments_for_employer(world.garden, active_only=False)) == 3
    assert tasks.assignments_for_employer(world.cvr) == []
