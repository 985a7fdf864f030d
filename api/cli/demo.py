"""`frikort demo seed`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from api.cli.context import load_settings, open_ledger
from db.unit_of_work import danish_day
from nlu import load_parser
from sampledata.demo import is_seeded, seed, seed_conversations, seed_staff

app = typer.Typer(no_args_is_help=True, help="Demo data")


@app.command("seed")
def seed_demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when already seeded")] = False,
) -> None:
    """Loads the demo identities documented in the README (and, outside production, the
    demo console users)."""
    settings = load_settings()
    with open_ledger(settings) as ledger:
        if settings.ENVIRONMENT != "production":
            added = seed_staff(ledger.staff)
            if added:
                typer.echo(f"demo console users added: {', '.join(added)}", err=True)
        if is_seeded(ledger):
            if if_empty:
                typer.echo("demo data already present")
                return
            typer.echo("demo data already present; nothing done", err=True)
            raise typer.Exit(1)
        now = dt.datetime.now(dt.UTC)
        seed(ledger, ledger.tasks, danish_day(now))  # the ledger's today, not the machine's
        if settings.ENVIRONMENT != "production":
            typer.echo("playing the demo conversations through the bot (trains the NLU model "
                       "on first use)", err=True)
            from bot import Dialogue  # the dialogue's imports: only this step needs them

            dialogue = Dialogue(ledger.conversations, load_parser(settings.nlu), config=settings.bot)
            seed_conversations(dialogue, now)
    typer.echo("demo data seeded (see README: demo identities and console)")
