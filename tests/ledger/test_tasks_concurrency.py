"""Taking the last place at the same moment, on SQLite and PostgreSQL: 16 card holders race
for one place (exactly one wins, 15 are told the task is full), for two places (exactly two),
and one card holder's 8 simultaneous requests (one reservation, 7 "already taken")."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from db.errors import DomainError
from ledger import IssueCard
from smalljobs.records import AssignmentView
from tests.ledger.casework_support import AARHUS
from tests.ledger.support import ADMIN, TODAY, fresh_cpr, world_fixture
from tests.ledger.tasks_support import GARDEN_PHONE, HOLDER, TaskWorld, make_task_world

RACERS = 16


world = world_fixture(make_task_world)


def _race(calls: list[Callable[[], AssignmentView]]) -> list[object]:
    """Runs the calls in threads released at the same moment; returns each outcome (an
    AssignmentView or an error code); anything but a ledger refusal fails the test."""
    gate = threading.Barrier(len(calls))
    outcomes: list[object] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], AssignmentView]) -> None:
        gate.wait()
        try:
            outcome: object = call()
        except DomainError as exc:
            outcome = exc.code
        except BaseException as exc:  # noqa: BLE001  (reported below)
            with lock:
                failures.append(exc)
            return
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    assert failures == []
    assert len(outcomes) == len(calls)
    return outcomes


def _cards(world: TaskWorld, n: int) -> list[str]:
    return [world.ledger.issue_card(IssueCard(
        cpr=fresh_cpr(), name=f"Racer {i} Hansen", municipality_code=AARHUS,
        valid_from=TODAY), actor=ADMIN).number for i in range(n)]


@pytest.mark.parametrize("places", [1, 2])
def test_sixteen_people_race_for_the_last_places(world: TaskWorld, places: int) -> None:
    task = world.post(places=places)
    cards = _cards(world, RACERS)
    take = world.ledger.tasks.take_task
    outcomes = _race([
        (lambda card=card: take(task.id, card, via="sms", actor=HOLDER)) for card in cards])
    winners = [o for o in outcomes if isinstance(o, AssignmentView)]
    assert len(winners) == places, outcomes
    assert sorted(o for o in outcomes if not isinstance(o, AssignmentView)) == (
        ["task_full"] * (RACERS - places))
    after = world.ledger.tasks.task(task.id)
    assert (after.places_taken, after.status) == (places, "filled")
    rows = world.rows("task_assignments", task_id=task.id)
    assert sorted(r["card_id"] for r in rows) == sorted(
        {r["card_id"] for r in rows})  # one row per card
    assert {r["status"] for r in rows} == {"reserved"} and len(rows) == places
    assert {w.card_number for w in winners} == {
        a.card_number for a in world.ledger.tasks.assignments_for_employer(world.garden)}
    # The employer heard about the winners only.
    told = [r["text"] for r in world.outbox() if r["recipient"] == GARDEN_PHONE]
    assert len(told) == places
    assert sorted(t.split("frikort ")[1][:5] for t in told) == sorted(
        w.card_number for w in winners)


def test_one_card_holder_pressing_eight_times_gets_one_place(world: TaskWorld) -> None:
    task = world.post(places=3)
    take = world.ledger.tasks.take_task
    outcomes = _race([lambda: take(task.id, world.lise, via="sms", actor=HOLDER)] * 8)
    assert len([o for o in outcomes if isinstance(o, AssignmentView)]) == 1, outcomes
    assert sorted(o for o in outcomes if not isinstance(o, AssignmentView)) == (
        ["task_already_taken"] * 7)
    assert world.ledger.tasks.task(task.id).places_taken == 1
    assert len(world.rows("task_assignments")) == 1
