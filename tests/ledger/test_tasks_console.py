"""What the console reads about tasks, on SQLite and PostgreSQL: the list per municipality,
fill rate, time to fill, expired unfilled, and the printable page (no personal data)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from tests.ledger.casework_support import AARHUS, ADA, KBH, KIM, OLE, SARA, unchanged
from tests.ledger.support import TODAY, world_fixture
from tests.ledger.tasks_support import HELLE, HOLDER, TaskWorld, make_task_world

world = world_fixture(make_task_world)


def test_the_list_is_per_municipality_and_by_status(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    aarhus = world.post(title="Aarhus")
    kbh = world.post(title="København", postcode="2100",
                     window_start=TODAY + dt.timedelta(days=1),
                     window_end=TODAY + dt.timedelta(days=1))
    tasks.take_task(aarhus.id, world.lise, via="sms", actor=HOLDER)
    for principal in (SARA, OLE, HELLE):
        assert [t.title for t in tasks.tasks_overview(principal)] == ["Aarhus"]
    assert [t.title for t in tasks.tasks_overview(KIM)] == ["København"]
    assert [t.title for t in tasks.tasks_overview(ADA)] == ["København", "Aarhus"]
    assert [t.title for t in tasks.tasks_overview(ADA, status="filled")] == ["Aarhus"]
    assert tasks.tasks_overview(SARA, status="open") == []
    assert kbh.municipality_code == KBH
    unchanged(world.base, "invalid_input", lambda: tasks.tasks_overview(SARA, status="nyt"))


def test_fill_rate_time_to_fill_and_expired_unfilled(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    assert tasks.task_stats(SARA, TODAY) == type(tasks.task_stats(SARA, TODAY))(
        posted=0, filled=0, fill_rate=0.0, median_hours_to_fill=None, expired_unfilled=0)
    quick = world.post(title="Hurtig")
    slow = world.post(title="Langsom", places=2)
    world.post(title="Ingen")
    world.post(title="København", postcode="2100")
    world.clock.advance(hours=2)
    taken = [tasks.take_task(quick.id, world.lise, via="sms", actor=HOLDER),
             tasks.take_task(slow.id, world.lise, via="sms", actor=HOLDER)]
    world.clock.advance(hours=4)
    taken.append(tasks.take_task(slow.id, world.jens, via="sms", actor=HOLDER))
    for assignment in taken:
        tasks.confirm_assignment(assignment.id, employer_cvr=world.garden, actor=HOLDER)
    world.clock.now = dt.datetime(2025, 6, 21, 9, tzinfo=dt.UTC)
    tasks.expire_tasks()
    stats = tasks.task_stats(SARA, TODAY)
    assert (stats.posted, stats.filled, stats.expired_unfilled) == (3, 2, 1)
    assert stats.fill_rate == pytest.approx(2 / 3)
    assert stats.median_hours_to_fill == 4.0  # 2 and 6 hours
    assert tasks.task_stats(KIM, TODAY).posted == 1
    assert tasks.task_stats(ADA, TODAY).posted == 4
    assert tasks.task_stats(SARA, TODAY + dt.timedelta(days=1)).posted == 0


def test_the_printable_page_has_open_tasks_and_no_personal_data(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    open_one = world.post(title="Åben", places=2)
    tasks.take_task(open_one.id, world.lise, via="sms", actor=HOLDER)
    full = world.post(title="Fuld")
    tasks.take_task(full.id, world.jens, via="sms", actor=HOLDER)
    world.post(title="København", postcode="2100")
    printed = tasks.printable_open_tasks(AARHUS)
    assert [t.title for t in printed] == ["Åben"]
    text = repr([dataclasses.asdict(t) for t in printed])
    # Her card number (five random digits) as a whole digit run: inside the CVR or an amount
    # it would be there by chance.
    assert "Lise" not in text and world.lise not in re.findall(r"\d+", text)
    assert "Holm" not in text
    assert [t.title for t in tasks.printable_open_tasks(KBH)] == ["København"]
    unchanged(world.base, "municipality_not_found", lambda: tasks.printable_open_tasks("999"))
