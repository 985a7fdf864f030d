"""What every CLI command needs: settings from the environment and a ledger built from them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from api.settings import Settings
from ledger import Actor, Ledger

CLI_ACTOR = Actor(name="cli", channel="cli")


@contextmanager
def open_ledger(settings: Settings | None = None) -> Iterator[Ledger]:
    ledger = Ledger((settings or Settings()).ledger)
    try:
        yield ledger
    finally:
        ledger.close()
