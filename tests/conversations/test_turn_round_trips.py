"""A message's round trips: the store returns the rate limit's count, and a turn's lock reads
the replay check; neither costs a statement of its own, and the guarantees stay.

Each test runs on SQLite and on PostgreSQL (the `db_url` fixture in tests/conftest.py).
Statements are counted with SQLAlchemy's engine events (BEGIN, COMMIT and SAVEPOINT left out).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from api.bootstrap import Backend
from conversations.records import StoredInbound
from conversations.turn import Turn
from tests.conversations.statement_count import statements
from tests.ledger.support import FakeClock, fast_ledger

SENDER = "+4529990001"
WINDOW = 60


@pytest.fixture
def backend(db_url: str) -> Iterator[tuple[Backend, FakeClock]]:
    clock = FakeClock()
    made = fast_ledger(db_url, clock)
    yield made, clock
    made.close()


def _store(backend: Backend, message_id: str, *, at_most: int = 5,
           address: str = SENDER) -> StoredInbound:
    return backend.conversations.store_inbound(
        "sms", address, message_id, f"besked {message_id}", count_recent=(WINDOW, at_most))


def _counted(backend: Backend, stored: StoredInbound, at_most: int) -> int:
    """The rate limit's count as a SELECT of its own makes it (intake.recent_inbound)."""
    return backend.conversations.recent_inbound(stored, WINDOW, at_most)


def test_a_known_senders_message_is_one_statement_with_the_rate_limits_count(
    backend: tuple[Backend, FakeClock],
) -> None:
    ledger, clock = backend
    first = _store(ledger, "m0")
    assert first.recent == 1 and not first.duplicate
    for n in range(1, 4):
        clock.advance(seconds=10)
        with statements() as seen:
            stored = _store(ledger, f"m{n}")
        assert len(seen) == 1, seen
        assert stored.recent == n + 1 == _counted(ledger, stored, 5)


def test_the_count_stops_at_at_most_and_the_window_slides(
    backend: tuple[Backend, FakeClock],
) -> None:
    ledger, clock = backend
    for n in range(5):
        stored = _store(ledger, f"m{n}", at_most=3)
        assert stored.recent == min(n + 1, 3) == _counted(ledger, stored, 3)
        clock.advance(seconds=20)  # the first leaves the window as the fourth arrives
    clock.advance(seconds=WINDOW + 1)
    assert _store(ledger, "late", at_most=3).recent == 1


def test_the_count_is_per_conversation_and_never_counts_replies(
    backend: tuple[Backend, FakeClock],
) -> None:
    ledger, _ = backend
    stored = _store(ledger, "a0")
    _store(ledger, "b0", address="+4529990002")

    def answer(turn: Turn) -> None:
        turn.record_reply("svar")
        turn.finish_inbound(stored.id, "test", ("svar",))
    ledger.conversations.turn("sms", SENDER, answer, inbound_id=stored.id)
    assert _store(ledger, "a1").recent == 2


def test_a_retry_not_yet_answered_is_counted_and_an_answered_one_gets_its_replies(
    backend: tuple[Backend, FakeClock],
) -> None:
    ledger, _ = backend
    stored = _store(ledger, "m0")
    _store(ledger, "m1")
    again = _store(ledger, "m0")
    assert again.duplicate and again.id == stored.id and again.replies is None
    assert again.recent == 1 == _counted(ledger, again, 5)
    ledger.conversations.turn(
        "sms", SENDER, lambda turn: turn.finish_inbound(stored.id, "test", ("svar",)),
        inbound_id=stored.id)
    answered = _store(ledger, "m0")
    assert answered.duplicate and answered.replies == ("svar",) and answered.recent is None


def test_without_count_recent_nothing_is_counted(backend: tuple[Backend, FakeClock]) -> None:
    ledger, _ = backend
    stored = ledger.conversations.store_inbound("sms", SENDER, "m0", "hej")
    assert stored.recent is None
    assert ledger.conversations.store_inbound("sms", SENDER, "m1", "hej").recent is None


def test_a_turn_locks_the_conversation_and_reads_its_inbound_in_one_statement(
    backend: tuple[Backend, FakeClock], db_url: str,
) -> None:
    ledger, _ = backend
    stored = _store(ledger, "m0")

    def check(turn: Turn) -> tuple[int, tuple[str, ...] | None]:
        return turn.conversation_id, turn.inbound_replies(stored.id)
    with statements() as seen:
        found = ledger.conversations.turn("sms", SENDER, check, inbound_id=stored.id)
    assert found == (stored.conversation_id, None)
    assert len(seen) == 1, seen
    if db_url.startswith("postgresql"):  # both rows locked: FOR UPDATE without OF
        assert seen[0].rstrip().endswith("FOR UPDATE"), seen[0]

    def answer(turn: Turn) -> None:
        turn.finish_inbound(stored.id, "test", ("a", "b"))
    ledger.conversations.turn("sms", SENDER, answer, inbound_id=stored.id)
    with statements() as seen:
        found = ledger.conversations.turn("sms", SENDER, check, inbound_id=stored.id)
    assert found == (stored.conversation_id, ("a", "b"))
    assert len(seen) == 1, seen


def test_a_turn_named_with_another_conversations_message_still_locks_its_own(
    backend: tuple[Backend, FakeClock],
) -> None:
    ledger, _ = backend
    own = _store(ledger, "m0")
    other = _store(ledger, "x0", address="+4529990002")
    found = ledger.conversations.turn("sms", SENDER, lambda turn: turn.conversation_id,
                                      inbound_id=other.id)
    assert found == own.conversation_id
    assert ledger.conversations.turn("sms", "+4529990003", lambda turn: turn.address,
                                     inbound_id=own.id) == "+4529990003"


def test_a_retry_waiting_for_the_lock_sees_the_answer_the_first_turn_committed(
    backend: tuple[Backend, FakeClock],
) -> None:
    """The replay check is read with the lock: the second turn's statement starts before the
    first commits (it waits for the lock), and still sees the message answered."""
    ledger, _ = backend
    stored = _store(ledger, "m0")
    holding, started = threading.Event(), threading.Event()
    runs: list[str] = []

    def first(turn: Turn) -> tuple[str, ...] | None:
        already = turn.inbound_replies(stored.id)
        if already is None:
            runs.append("first")
            turn.record_reply("svar")
            turn.finish_inbound(stored.id, "test", ("svar",))
            holding.set()
            assert started.wait(10)
            time.sleep(0.3)  # the second turn's locking read is waiting by now
        return already

    def second(turn: Turn) -> tuple[str, ...] | None:
        already = turn.inbound_replies(stored.id)
        if already is None:
            runs.append("second")
        return already

    def run_second() -> tuple[str, ...] | None:
        assert holding.wait(10)
        started.set()
        return ledger.conversations.turn("sms", SENDER, second, inbound_id=stored.id)
    results = _together(
        lambda: ledger.conversations.turn("sms", SENDER, first, inbound_id=stored.id),
        run_second)
    assert results == [None, ("svar",)]
    assert runs == ["first"]


def _together(*calls: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result(timeout=30) for f in [pool.submit(call) for call in calls]]


def test_the_stored_count_matches_intake_for_a_message_of_another_channel(
    backend: tuple[Backend, FakeClock],
) -> None:
    """A call's turns are kept in the caller's SMS conversation: counted there too."""
    ledger, _ = backend
    _store(ledger, "m0")
    stored = ledger.conversations.store_inbound(
        "sms", SENDER, "CA1:0", "(opkald)", count_recent=(WINDOW, 5), message_channel="voice")
    assert stored.recent == 2 == _counted(ledger, stored, 5)
