"""After the work, on SQLite and PostgreSQL: the hour prompt (once, only after the window),
and the employer's answer becoming a posted wage report through the ledger's own rules: the
employment created when there is none, the cap split, idempotency; the holder is told."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger import WageReportResult
from tests.ledger.casework_support import unchanged
from tests.ledger.support import set_cap, world_fixture
from tests.ledger.tasks_support import (
    EMPLOYER,
    FRIDAY,
    GARDEN_PHONE,
    HOLDER,
    LISE_PHONE,
    TaskWorld,
    make_task_world,
)

SATURDAY_MORNING = dt.datetime(2025, 6, 21, 8, tzinfo=dt.UTC)


world = world_fixture(make_task_world)


def _confirmed(world: TaskWorld, card: str | None = None, **task: object) -> int:
    tasks = world.ledger.tasks
    taken = tasks.take_task(world.post(**task).id, card or world.lise, via="sms", actor=HOLDER)
    return tasks.confirm_assignment(taken.id, employer_cvr=world.garden, actor=EMPLOYER).id


def _record(world: TaskWorld, assignment_id: int, key: str = "svar-1", *,
            hours: str = "3", amount_ore: int = 450_00,
            cvr: str | None = None) -> WageReportResult:
    return world.ledger.tasks.record_task_hours(
        assignment_id, employer_cvr=cvr or world.garden, hours=Decimal(hours),
        amount_ore=amount_ore, actor=EMPLOYER, idempotency_key=key)


def test_the_employer_is_asked_once_after_the_window(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    assignment_id = _confirmed(world)
    reserved = tasks.take_task(world.post(title="Kun reserveret").id, world.jens, via="sms",
                               actor=HOLDER)
    assert tasks.send_hour_prompts() == 0
    world.clock.now = dt.datetime(2025, 6, 20, 21, 30, tzinfo=dt.UTC)  # 23:30 on the day
    assert tasks.send_hour_prompts() == 0
    assert tasks.pending_hour_prompts(world.garden) == []
    before = len(world.outbox())
    assert tasks.send_hour_prompts(SATURDAY_MORNING) == 1
    assert world.outbox_since(before) == [
        (GARDEN_PHONE, "Lise har udført opgaven Havearbejde. Svar med timer og beløb, "
                       "fx 3 timer 450 kr.")]
    assert tasks.send_hour_prompts(SATURDAY_MORNING + dt.timedelta(hours=1)) == 0
    [pending] = tasks.pending_hour_prompts(world.garden)
    assert pending.id == assignment_id and pending.hours_prompted_at == SATURDAY_MORNING
    assert tasks.assignment(reserved.id).hours_prompted_at is None
    assert tasks.pending_hour_prompts(world.cvr) == []


def test_the_answer_becomes_a_posted_report_and_the_holder_is_told(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    assignment_id = _confirmed(world)
    world.clock.now = SATURDAY_MORNING
    tasks.send_hour_prompts()
    assert world.rows("employments", card_id=_card_id(world, world.lise)) == []
    before = len(world.outbox())
    result = _record(world, assignment_id)
    assert (result.status, result.counted_ore, result.over_cap_ore) == (
        "posted", 450_00, 0)
    assert result.hours == 3 and not result.replayed
    [employment] = world.rows("employments", card_id=_card_id(world, world.lise))
    assert employment["start_date"] == FRIDAY and employment["end_date"] is None
    balance = world.ledger.balance(world.lise, 2025)
    assert balance.posted_ore == 450_00
    [(to, text)] = world.outbox_since(before)
    assert to == LISE_PHONE and text == (
        "Havehjælp Aarhus har indberettet 3 timer og 450 kr. for opgaven Havearbejde. "
        "Skriv SALDO for at se, hvad du har tjent i år.")
    done = tasks.assignment(assignment_id)
    assert (done.status, done.wage_report_id) == ("done", result.id)
    assert done.task.status == "done"
    assert tasks.pending_hour_prompts(world.garden) == []
    assert {a["action"] for a in world.rows("audit_log")} >= {
        "employment.create", "wage_report.create", "task_assignment.hours"}


def test_the_same_answer_twice_is_one_report(world: TaskWorld) -> None:
    assignment_id = _confirmed(world)
    world.clock.now = SATURDAY_MORNING
    first = _record(world, assignment_id)
    before = len(world.outbox())
    again = _record(world, assignment_id)
    assert again.replayed and again.id == first.id
    assert len(world.rows("wage_reports")) == 1 and len(world.outbox()) == before
    unchanged(world.base, "assignment_not_active",
              lambda: _record(world, assignment_id, "svar-2", amount_ore=500_00))
    assert world.ledger.balance(world.lise, 2025).posted_ore == 450_00


def test_what_is_over_the_cap_is_split_off_and_the_holder_is_told(world: TaskWorld) -> None:
    set_cap(world.ledger, 2025, 300)
    assignment_id = _confirmed(world)
    world.clock.now = SATURDAY_MORNING
    before = len(world.outbox())
    result = _record(world, assignment_id)
    assert (result.counted_ore, result.over_cap_ore) == (300_00, 150_00)
    balance = world.ledger.balance(world.lise, 2025)
    assert (balance.posted_ore, balance.over_cap_ore) == (300_00, 150_00)
    [(_, text)] = world.outbox_since(before)
    assert text.endswith("150 kr. af beløbet er over grænsen for året og tæller ikke med "
                         "på frikortet.")


def test_an_existing_employment_is_used(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    task = world.post(employer_cvr=world.cvr)  # the café employs Jens since 1 January
    taken = tasks.take_task(task.id, world.jens, via="sms", actor=HOLDER)
    tasks.confirm_assignment(taken.id, employer_cvr=world.cvr, actor=EMPLOYER)
    world.clock.now = SATURDAY_MORNING
    employments = len(world.rows("employments"))
    assert _record(world, taken.id, cvr=world.cvr).status == "posted"
    assert len(world.rows("employments")) == employments


def test_hours_only_for_a_confirmed_assignment_of_this_employer(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    reserved = tasks.take_task(world.post().id, world.lise, via="sms", actor=HOLDER)
    world.clock.now = SATURDAY_MORNING
    unchanged(world.base, "assignment_not_active", lambda: _record(world, reserved.id))
    confirmed = _confirmed(world, world.jens, window_start=dt.date(2025, 6, 21),
                           window_end=dt.date(2025, 6, 21))
    unchanged(world.base, "assignment_not_found",
              lambda: _record(world, confirmed, cvr=world.cvr))
    unchanged(world.base, "assignment_not_found", lambda: _record(world, 9999))


def test_the_ledger_s_own_refusals_change_nothing(world: TaskWorld) -> None:
    assignment_id = _confirmed(world)
    world.clock.now = SATURDAY_MORNING
    unchanged(world.base, "amount_out_of_bounds",
              lambda: _record(world, assignment_id, amount_ore=0))
    unchanged(world.base, "hours_implausible", lambda: _record(world, assignment_id, hours="30"))
    assert world.ledger.tasks.assignment(assignment_id).status == "confirmed"


def test_hours_reported_early_count_for_today(world: TaskWorld) -> None:
    """The employer answers before the window began (the work was done early)."""
    assignment_id = _confirmed(world)
    result = _record(world, assignment_id)
    assert result.status == "posted"
    [report] = world.rows("wage_reports")
    assert report["work_from"] == report["work_to"] == report["paid_on"] == world.clock.now.date()


def _card_id(world: TaskWorld, number: str) -> int:
    return int(world.rows("cards", number=number)[0]["id"])


def test_a_task_with_free_places_is_done_once_everyone_who_came_is_paid(
        world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    assignment_id = _confirmed(world, places=3)
    other = tasks.take_task(tasks.assignment(assignment_id).task.id, world.jens, via="sms",
                            actor=HOLDER)
    tasks.confirm_assignment(other.id, employer_cvr=world.garden, actor=EMPLOYER)
    world.clock.now = SATURDAY_MORNING
    _record(world, assignment_id)
    task_id = tasks.assignment(assignment_id).task.id
    assert tasks.task(task_id).status == "open"  # Jens's hours are still owed
    assert tasks.expire_tasks() == 0
    assert tasks.task(task_id).status == "open"
    _record(world, other.id, "svar-jens")
    assert tasks.task(task_id).status == "done"
    assert [a.status for a in tasks.assignments_for_task(task_id)] == ["done", "done"]
    assert tasks.assignments_for_task(task_id, active_only=True) == []


def test_expiry_closes_a_paid_task_the_employer_left_open(world: TaskWorld) -> None:
    """Paid on the last day, with a free place left: done when the window is over."""
    tasks = world.ledger.tasks
    assignment_id = _confirmed(world, places=2)
    task_id = tasks.assignment(assignment_id).task.id
    world.clock.now = dt.datetime(2025, 6, 20, 14, tzinfo=dt.UTC)
    _record(world, assignment_id)
    assert tasks.task(task_id).status == "open"
    world.clock.now = SATURDAY_MORNING
    assert tasks.expire_tasks() == 1
    assert tasks.task(task_id).status == "done"
    assert world.audit("task.done")[0]["entity_id"] == str(task_id)
