"""`frikort caps set` and `frikort ledger balance|export`."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from api.cli.context import CLI_ACTOR, open_ledger
from api.export_records import EXPORT_COLUMNS, export_record
from danish.money import MoneyFormatError, format_danish, parse_kroner
from db.errors import DomainError
from ledger import SetCap

app = typer.Typer(no_args_is_help=True, help="Balances and exports")
caps_app = typer.Typer(no_args_is_help=True, help="The yearly cap table")


def _fail(error: DomainError) -> None:
    typer.echo(f"{error.code}: {error.message}", err=True)
    raise typer.Exit(2)


@caps_app.command("set")
def set_cap(
    year: Annotated[int, typer.Argument(min=2019, max=2100, help="Calendar year")],
    amount: Annotated[str, typer.Argument(help='Kroner, e.g. "42766" or "42766.00"')],
    source: Annotated[str, typer.Option("--source", help="Where the figure comes from (URL)")],
    demo: Annotated[bool, typer.Option("--demo", help="Label the figure as a demo value")] = False,
) -> None:
    """Sets a year's cap with its source; waiting reports for the year are counted."""
    try:
        amount_ore = parse_kroner(amount)
    except MoneyFormatError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    try:
        cmd = SetCap(year=year, amount_ore=amount_ore, source=source, is_demo=demo)
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc
    with open_ledger() as ledger:
        try:
            result = ledger.set_cap(cmd, actor=CLI_ACTOR)
        except DomainError as error:
            _fail(error)
            return
    typer.echo(f"cap {result.year}: {format_danish(result.amount_ore)} "
               f"({result.reports_released} waiting reports counted)")


@caps_app.command("list")
def list_caps() -> None:
    """Prints the cap in force for each year, with its source."""
    with open_ledger() as ledger:
        for cap in ledger.caps():
            label = " (demo value)" if cap.is_demo else ""
            typer.echo(f"{cap.year}  {format_danish(cap.amount_ore):>16}{label}  {cap.source}")


@app.command("balance")
def balance(card: str, year: Annotated[int | None, typer.Option("--year")] = None) -> None:
    """Prints what a card has earned, has reserved, and has left in a year."""
    with open_ledger() as ledger:
        try:
            result = ledger.balance(card, year)
        except DomainError as error:
            _fail(error)
            return
    cap = format_danish(result.cap_ore) if result.cap_ore is not None else "not loaded"
    remaining = result.remaining_ore
    typer.echo(f"card {result.card_number}, {result.year}")
    typer.echo(f"  cap        {cap}{' (demo value)' if result.cap_is_demo else ''}")
    typer.echo(f"  posted     {format_danish(result.posted_ore)}")
    typer.echo(f"  pending    {format_danish(result.pending_ore)}")
    typer.echo(f"  remaining  {format_danish(remaining) if remaining is not None else '-'}")
    if result.over_cap_ore:
        typer.echo(f"  over cap   {format_danish(result.over_cap_ore)} (not covered by the frikort)")
    if result.awaiting_cap_ore:
        typer.echo(f"  waiting    {format_danish(result.awaiting_cap_ore)} (cap not loaded)")


@app.command("export")
def export(
    municipality: Annotated[str, typer.Option("--municipality")],
    year: Annotated[int, typer.Option("--year")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
) -> None:
    """Writes the year's wage reports for a municipality's cards to standard output."""
    if fmt not in {"csv", "json"}:
        typer.echo("--format must be csv or json", err=True)
        raise typer.Exit(2)
    with open_ledger() as ledger:
        rows = (export_record(row) for row in ledger.export_wage_reports(municipality, year))
        if fmt == "csv":
            writer = csv.DictWriter(sys.stdout, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        else:
            json.dump(list(rows), sys.stdout, ensure_ascii=False, indent=1)
            sys.stdout.write("\n")
