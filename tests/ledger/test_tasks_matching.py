"""Which tasks a card holder is offered (`tasks_for_card`), on SQLite and PostgreSQL: near
first (postcode, municipality, postcode distance), then fewest hours; own-list tasks only for
people on the list; never a task that is full, over, theirs already, or not open."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger import DeactivateCard
from tests.ledger.casework_support import unchanged
from tests.ledger.support import ADMIN, TODAY, world_fixture
from tests.ledger.tasks_support import EMPLOYER, FRIDAY, HOLDER, TaskWorld, make_task_world

world = world_fixture(make_task_world)


def _titles(world: TaskWorld, card: str, **kwargs: object) -> list[str]:
    return [t.title for t in world.ledger.tasks.tasks_for_card(card, **kwargs)]


def test_nearest_first_then_fewest_hours(world: TaskWorld) -> None:
    world.post(title="Odense", postcode="5000", expected_hours=Decimal(1))
    world.post(title="Aarhus N lang", postcode="8200", expected_hours=Decimal(4))
    world.post(title="Aarhus C lang", postcode="8000", expected_hours=Decimal(5))
    world.post(title="Aarhus C kort", postcode="8000", expected_hours=Decimal(2))
    world.post(title="Silkeborg", postcode="8600", expected_hours=Decimal(1))
    world.post(title="Aarhus V kort", postcode="8210", expected_hours=Decimal(1))
    assert _titles(world, world.lise, postcode="8000", limit=10) == [
        "Aarhus C kort", "Aarhus C lang",      # the same postcode, shortest first
        "Aarhus N lang", "Aarhus V kort",      # the same municipality: 8200 is nearer than 8210
        "Silkeborg", "Odense"]                 # then by postcode distance
    assert _titles(world, world.lise, postcode="8000") == [
        "Aarhus C kort", "Aarhus C lang", "Aarhus N lang"]  # three by default
    assert _titles(world, world.lise, postcode="5000", limit=2) == ["Odense", "Aarhus C kort"]


def test_without_a_postcode_the_digest_postcode_then_the_municipality(world: TaskWorld) -> None:
    world.post(title="Aarhus", postcode="8000", expected_hours=Decimal(3))
    world.post(title="Odense", postcode="5000", expected_hours=Decimal(1))
    world.post(title="Middelfart", postcode="5500", expected_hours=Decimal("0.5"))
    # Lise's card is in Aarhus: its tasks first, then the shortest.
    assert _titles(world, world.lise, limit=5) == ["Aarhus", "Middelfart", "Odense"]
    world.ledger.tasks.subscribe_digest(world.lise, "5000", "weekly")
    assert _titles(world, world.lise, limit=5) == ["Odense", "Middelfart", "Aarhus"]


def test_full_taken_ended_and_closed_tasks_are_not_offered(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    full = world.post(title="Fuld")
    tasks.take_task(full.id, world.jens, via="sms", actor=HOLDER)
    mine = world.post(title="Min", places=2)
    tasks.take_task(mine.id, world.lise, via="sms", actor=HOLDER)
    cancelled = world.post(title="Aflyst")
    tasks.cancel_task(cancelled.id, employer_cvr=world.garden, actor=EMPLOYER)
    world.post(title="Åben")
    world.post(title="Slutter i dag", window_start=TODAY, window_end=TODAY)
    assert sorted(_titles(world, world.lise, limit=10)) == ["Slutter i dag", "Åben"]
    assert sorted(_titles(world, world.mette, postcode="8000", limit=10)) == [
        "Min", "Slutter i dag", "Åben"]
    world.clock.advance(days=1)
    assert _titles(world, world.lise, limit=10) == ["Åben"]


def test_an_own_list_task_is_offered_only_to_people_on_the_list(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    task = world.post(title="Kun for kendte", audience="own_list")
    assert _titles(world, world.lise) == []
    unchanged(world.base, "task_own_list_only",
              lambda: tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER))
    tasks.add_known_person(world.garden, world.lise, EMPLOYER)
    assert _titles(world, world.lise) == ["Kun for kendte"]
    assert _titles(world, world.jens) == []
    # The list is the employer's: being known by the café does not count.
    tasks.add_known_person(world.cvr, world.jens, EMPLOYER)
    assert _titles(world, world.jens) == []
    assert tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER).status == "reserved"


def test_a_deactivated_card_is_offered_nothing(world: TaskWorld) -> None:
    world.post()
    world.ledger.deactivate_card(DeactivateCard(number=world.lise, reason="flyttet"),
                                 actor=ADMIN)
    unchanged(world.base, "card_not_active", lambda: world.ledger.tasks.tasks_for_card(world.lise))
    unchanged(world.base, "card_not_found", lambda: world.ledger.tasks.tasks_for_card("00000"))


def test_an_employer_lists_its_own_tasks(world: TaskWorld) -> None:
    first = world.post(title="Først")
    second = world.post(title="Så", window_start=FRIDAY + dt.timedelta(days=1),
                        window_end=FRIDAY + dt.timedelta(days=1))
    world.ledger.tasks.cancel_task(first.id, employer_cvr=world.garden, actor=EMPLOYER)
    tasks = world.ledger.tasks
    assert [t.id for t in tasks.tasks_for_employer(world.garden)] == [second.id]
    assert [t.id for t in tasks.tasks_for_employer(world.garden, active_only=False)] == [
        second.id, first.id]
    assert tasks.tasks_for_employer(world.cvr) == []
