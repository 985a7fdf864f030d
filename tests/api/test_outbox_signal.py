"""The webhooks wake the outbox worker only after a turn that queued something
(conversations/outbox_signal.py): an answered SMS does not make the worker claim an empty outbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from api.scheduler import BackgroundScheduler
from conversations.outbox_signal import committed_outbox_inserts
from conversations.turn import Turn
from ledger import Ledger
from tests.ledger.support import fast_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return fast_ledger(f"sqlite:///{tmp_path / 'signal.db'}")


def _woken(worker: BackgroundScheduler) -> bool:
    return worker._wake.is_set()  # noqa: SLF001  (the worker's only observable state here)


def test_only_a_committed_outbox_insert_wakes_the_worker(ledger: Ledger) -> None:
    async def check() -> None:
        worker = BackgroundScheduler(ledger, {})
        before = committed_outbox_inserts()
        ledger.conversations.turn("sms", "+4526000001", lambda turn: None)
        worker.kick_if_queued()
        assert not _woken(worker) and committed_outbox_inserts() == before

        with pytest.raises(RuntimeError):
            def queue_then_fail(turn: Turn) -> None:
                turn.enqueue("sms", "+4526000001", "not sent")
                raise RuntimeError("rolled back")
            ledger.conversations.turn("sms", "+4526000001", queue_then_fail)
        worker.kick_if_queued()
        assert not _woken(worker) and committed_outbox_inserts() == before

        ledger.conversations.turn("sms", "+4526000001",
                                  lambda turn: turn.enqueue("sms", "+4526000001", "hej"))
        assert committed_outbox_inserts() == before + 1
        worker.kick_if_queued()
        assert _woken(worker)
        worker._wake.clear()  # noqa: SLF001
        worker.kick_if_queued()  # nothing new since
        assert not _woken(worker)
        worker.kick()  # the admin routes still wake it unconditionally
        assert _woken(worker)

    try:
        asyncio.run(check())
    finally:
        ledger.close()
