"""`frikort demo seed`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from api.cli.context import open_ledger
from api.demo_seed import is_seeded, seed

app = typer.Typer(no_args_is_help=True, help="Demo data")


@app.command("seed")
def seed_demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when already seeded")] = False,
) -> None:
    """Loads the demo identities documented in the README."""
    with open_ledger() as ledger:
        if is_seeded(ledger):
            if if_empty:
                typer.echo("demo data already present")
                return
            typer.echo("demo data already present; nothing done", err=True)
            raise typer.Exit(1)
        seed(ledger, dt.date.today())
    typer.echo("demo data seeded (see README: demo identities)")
