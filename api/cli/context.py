"""What every CLI command needs: settings from the environment and a ledger built from them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from api.backend import Backend
from api.settings import Settings
from db.commands import Actor

CLI_ACTOR = Actor(name="cli", channel="cli")


def load_settings() -> Settings:
    """Settings from the environment; in production with a weak secret, one line per problem
    on standard error and exit status 2, before anything touches the data."""
    settings = Settings()
    found = settings.secret_problems()
    if found:
        for line in found:
            typer.echo(f"refused: {line}", err=True)
        raise typer.Exit(2)
    return settings


@contextmanager
def open_ledger(settings: Settings | None = None) -> Iterator[Backend]:
    ledger = Backend((settings or load_settings()).ledger)
    try:
        yield ledger
    finally:
        ledger.close()
