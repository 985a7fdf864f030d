"""`frikort ledger generate`: the synthetic national data set, for benchmarks and load tests."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from api.cli.context import load_settings
from db.migrate import upgrade
from sampledata import SyntheticDataError, generate, plan_for_scale


def generate_command(
    scale: Annotated[float, typer.Option(
        "--scale", min=0.0001, max=6.0,
        help="1.0 = 15.000 cards, 5.000 employers, about 500.000 reports")] = 0.1,
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same data")] = 1,
) -> None:
    """Fills an empty database with invented card holders, employers and three years of
    wage reports (never in production; refused when the database already holds people)."""
    settings = load_settings()
    if settings.ENVIRONMENT == "production":
        typer.echo("refused: synthetic data never goes into a production database", err=True)
        raise typer.Exit(2)
    upgrade(settings.DATABASE_URL)
    plan = plan_for_scale(scale, now=dt.datetime.now(dt.UTC), seed=seed)
    try:
        report = generate(settings.ledger, plan)
    except SyntheticDataError as error:
        typer.echo(f"{error.code}: {error}", err=True)
        raise typer.Exit(2) from error
    for table, count in sorted(report.rows.items()):
        typer.echo(f"{table:22} {count:>10}")
    typer.echo(f"{report.total_rows} rows in {report.seconds_planning:.1f} s planning and "
               f"{report.seconds_writing:.1f} s writing (scale {scale:g}, seed {seed})")
