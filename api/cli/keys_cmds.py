"""`frikort keys create|list|revoke`: scoped API keys for payroll and municipal systems."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from api.cli.context import CLI_ACTOR, open_ledger
from api_keys import ApiKeyView
from db.errors import DomainError

app = typer.Typer(no_args_is_help=True, help="Scoped API keys (employer or municipality)")


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def _line(key: ApiKeyView) -> str:
    state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
    return (f"{key.id:>5}  frk_{key.prefix}_…  {key.scope:<16}  {state:<24}  "
            f"last used {_when(key.last_used_at):<16}  {key.name}")


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who holds it, e.g. the payroll system")],
    employer: Annotated[str | None, typer.Option("--employer", help="The employer's CVR")] = None,
    municipality: Annotated[str | None, typer.Option(
        "--municipality", help="The municipality code, e.g. 751")] = None,
) -> None:
    """Makes a key for one employer or one municipality and prints it once."""
    if (employer is None) == (municipality is None):
        typer.echo("give exactly one of --employer CVR and --municipality CODE", err=True)
        raise typer.Exit(2)
    with open_ledger() as ledger:
        try:
            made = ledger.api_keys.create(
                "employer" if employer is not None else "municipality", name,
                employer_cvr=employer, municipality_code=municipality, actor=CLI_ACTOR)
        except DomainError as error:
            typer.echo(f"{error.code}: {error.message}", err=True)
            raise typer.Exit(2) from error
    typer.echo(f"key {made.view.id} for {made.view.scope} ({made.view.name}):")
    typer.echo(made.secret)
    typer.echo("Shown once: store it now. Only its hash is kept.", err=True)


@app.command("list")
def list_keys() -> None:
    """Every key, newest first, with its scope, state and last use (never the key itself)."""
    with open_ledger() as ledger:
        for key in ledger.api_keys.list():
            typer.echo(_line(key))


@app.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(min=1, help="The id from `keys list`")]) -> None:
    """The key stops working at once."""
    with open_ledger() as ledger:
        try:
            key = ledger.api_keys.revoke(key_id, actor=CLI_ACTOR)
        except DomainError as error:
            typer.echo(f"{error.code}: {error.message}", err=True)
            raise typer.Exit(2) from error
    typer.echo(_line(key))
