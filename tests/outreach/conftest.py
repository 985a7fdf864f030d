"""The `world` fixture for outreach tests: the casework world (Jens in Aarhus with phone and
Telegram, Mette in København with a phone, Café Solsikken employing both), on SQLite and
PostgreSQL, its ledger invariants checked at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ledger.casework_support import World, open_world


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from open_world(db_url)
