"""The opt-in digest, on SQLite and PostgreSQL: only news (tasks posted since the last one,
that the holder may take, near the digest's postcode), at most daily or weekly, in the
daytime, to linked contacts of active cards, never to a conversation that said STOP."""

from __future__ import annotations

import datetime as dt

from ledger import DeactivateCard
from tests.ledger.casework_support import JENS_PHONE, JENS_TELEGRAM, unchanged
from tests.ledger.support import ADMIN, world_fixture
from tests.ledger.tasks_support import LISE_PHONE, TaskWorld, make_task_world, stop

NOON = dt.datetime(2025, 6, 16, 10, tzinfo=dt.UTC)
"""12:00 in Denmark."""


def _at_noon(url: str) -> TaskWorld:
    made = make_task_world(url)
    made.clock.now = NOON
    return made


world = world_fixture(_at_noon)


def _sent(world: TaskWorld, before: int) -> list[tuple[str, str]]:
    return world.outbox_since(before)


def test_a_digest_only_when_there_is_news(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    world.post(title="Før tilmelding")
    view = tasks.subscribe_digest(world.lise, "8000", "daily")
    assert (view.postcode, view.frequency, view.last_sent_at) == ("8000", "daily", None)
    world.clock.advance(minutes=1)
    assert tasks.send_due_digests(NOON + dt.timedelta(minutes=5)) == 0  # nothing new
    world.post(title="Ny 1")
    world.post(title="Ny 2", postcode="8200")
    world.post(title="Odense", postcode="5000")
    before = len(world.outbox())
    assert tasks.send_due_digests(NOON + dt.timedelta(hours=2)) == 1
    assert _sent(world, before) == [
        (LISE_PHONE, "Der er 2 nye opgaver i 8000 i dag. Skriv JOB for at se dem.")]
    assert tasks.digest(world.lise).last_sent_at == NOON + dt.timedelta(hours=2)
    # Not again the same day, even with news; the next day with news only.
    world.clock.now = NOON + dt.timedelta(hours=3)
    world.post(title="Ny 3")
    assert tasks.send_due_digests(NOON + dt.timedelta(hours=6)) == 0
    assert tasks.send_due_digests(NOON + dt.timedelta(days=1, hours=1)) == 1
    assert _sent(world, before)[-1] == (
        LISE_PHONE, "Der er 1 ny opgave i 8000 i dag. Skriv JOB for at se den.")
    assert tasks.send_due_digests(NOON + dt.timedelta(days=2, hours=1)) == 0


def test_weekly_means_once_a_week(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    tasks.subscribe_digest(world.lise, "8000", "weekly")
    world.clock.advance(minutes=1)
    world.post()
    assert tasks.send_due_digests(NOON + dt.timedelta(hours=1)) == 1
    assert "i denne uge" in world.outbox()[-1]["text"]
    world.clock.advance(days=1)
    world.post(title="Næste", window_start=dt.date(2025, 6, 27), window_end=dt.date(2025, 6, 27))
    assert tasks.send_due_digests(NOON + dt.timedelta(days=3)) == 0
    assert tasks.send_due_digests(NOON + dt.timedelta(days=7, hours=1)) == 1


def test_not_at_night(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    tasks.subscribe_digest(world.lise, "8000", "daily")
    world.clock.advance(minutes=1)
    world.post()
    assert tasks.send_due_digests(dt.datetime(2025, 6, 16, 21, tzinfo=dt.UTC)) == 0  # 23:00
    assert tasks.send_due_digests(dt.datetime(2025, 6, 17, 5, tzinfo=dt.UTC)) == 0  # 07:00
    assert tasks.send_due_digests(dt.datetime(2025, 6, 17, 7, tzinfo=dt.UTC)) == 1  # 09:00


def test_only_tasks_the_holder_may_take_count(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    tasks.subscribe_digest(world.lise, "8000", "daily")
    world.clock.advance(minutes=1)
    world.post(audience="own_list")
    full = world.post(title="Fuld")
    tasks.take_task(full.id, world.jens, via="sms", actor=ADMIN)
    assert tasks.send_due_digests(NOON + dt.timedelta(hours=1)) == 0
    tasks.add_known_person(world.garden, world.lise, ADMIN)
    assert tasks.send_due_digests(NOON + dt.timedelta(hours=2)) == 1
    assert "Der er 1 ny opgave i 8000" in world.outbox()[-1]["text"]


def test_never_to_stop_and_never_for_an_inactive_card(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    tasks.subscribe_digest(world.jens, "8000", "daily")
    tasks.subscribe_digest(world.lise, "8000", "daily")
    stop(world, "telegram", JENS_TELEGRAM)
    world.ledger.deactivate_card(DeactivateCard(number=world.lise, reason="flyttet"),
                                 actor=ADMIN)
    world.clock.advance(minutes=1)
    world.post()
    before = len(world.outbox())
    assert tasks.send_due_digests(NOON + dt.timedelta(hours=1)) == 1
    assert [to for to, _ in _sent(world, before)] == [JENS_PHONE]
    stop(world, "sms", JENS_PHONE)
    world.post(title="Mere")
    assert tasks.send_due_digests(NOON + dt.timedelta(days=1, hours=1)) == 0
    assert [to for to, _ in _sent(world, before)] == [JENS_PHONE]


def test_subscribe_changes_and_unsubscribe_ends(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    tasks.subscribe_digest(world.lise, "8000", "daily")
    changed = tasks.subscribe_digest(world.lise, "5000", "weekly")
    assert (changed.postcode, changed.frequency) == ("5000", "weekly")
    assert len(world.rows("job_digests")) == 1
    unchanged(world.base, "unknown_postcode",
              lambda: tasks.subscribe_digest(world.lise, "0000", "daily"))
    unchanged(world.base, "invalid_frequency",
              lambda: tasks.subscribe_digest(world.lise, "8000", "hourly"))
    unchanged(world.base, "card_not_found",
              lambda: tasks.subscribe_digest("00000", "8000", "daily"))
    assert tasks.unsubscribe_digest(world.lise) is True
    assert tasks.digest(world.lise) is None and world.rows("job_digests") == []
    assert tasks.unsubscribe_digest(world.lise) is False
    world.post()
    assert tasks.send_due_digests(NOON + dt.timedelta(hours=1)) == 0
