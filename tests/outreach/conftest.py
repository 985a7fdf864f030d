"""The `world` fixture for outreach tests: the casework world (Jens in Aarhus with phone and
Telegram, Mette in København with a phone, Café Solsikken employing both), on SQLite and
PostgreSQL, its ledger invariants checked at the end."""

from __future__ import annotations

from tests.ledger.casework_support import make_world
from tests.ledger.support import world_fixture

world = world_fixture(make_world)
