"""`frikort ledger import FILE.csv`: a payroll file through the batch path of the ledger.

The rows go to `Ledger.report_wages` in batches of 1.000, the path `POST
/api/v1/wage-reports/batch` takes (each report on the single path, one transaction per chunk).
Malformed rows and refused reports are listed on standard error by line number; one summary
line goes to standard output. Exit status 0 when every row was posted (or was already), 1 when
any row was malformed or refused, 2 when the file cannot be used at all.
"""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.backend import Backend
from api.cli.context import open_ledger
from api.cli.wage_import import HeaderError, Malformed, Row, count_rows, read_rows
from db.commands import Actor
from db.errors import DomainError
from ledger.service.report_batch import MAX_BATCH

IMPORT_ACTOR = Actor(name="cli:import", channel="cli")
PROGRESS_FROM = 1000
"""Files with more rows than this get a progress bar (on standard error)."""


def _number(count: int) -> str:
    """Danish thousands separator, as people here read figures: 12.345."""
    return f"{count:,}".replace(",", ".")


def _post(ledger: Backend, rows: list[Row], tally: Counter[str]) -> None:
    outcomes = ledger.report_wages([row.cmd for row in rows], actor=IMPORT_ACTOR)
    for row, outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            tally["refused"] += 1
            typer.echo(f"line {row.line}: {outcome.code}: {outcome.message}", err=True)
        elif outcome.replayed:
            tally["already imported"] += 1
        else:
            tally[outcome.status] += 1


def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV with a header row (README: columns)")],
    pending: Annotated[bool, typer.Option(
        "--pending", help="Without a post column: leave reports pending confirmation")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only read and check the file")] = False,
    progress: Annotated[bool, typer.Option(help="Progress bar for large files")] = True,
) -> None:
    """Imports wage reports from a payroll CSV file; safe to run again on the same file."""
    total = count_rows(file)
    tally: Counter[str] = Counter()
    bar = Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    show = progress and total > PROGRESS_FROM
    with file.open(encoding="utf-8-sig", newline="") as handle, \
            (open_ledger() if not dry_run else nullcontext()) as ledger, \
            (bar if show else nullcontext()):
        task = bar.add_task("import", total=total) if show else None
        pending_rows: list[Row] = []
        try:
            for row in read_rows(handle, post_default=not pending):
                if isinstance(row, Malformed):
                    tally["malformed"] += 1
                    typer.echo(f"line {row.line}: malformed: {row.reason}", err=True)
                elif ledger is None:
                    tally["ready"] += 1
                else:
                    pending_rows.append(row)
                if len(pending_rows) == MAX_BATCH and ledger is not None:
                    _post(ledger, pending_rows, tally)
                    pending_rows = []
                if task is not None:
                    bar.advance(task)
        except HeaderError as exc:
            typer.echo(f"{file.name}: {exc}; nothing imported", err=True)
            raise typer.Exit(2) from exc
        except UnicodeDecodeError as exc:
            typer.echo(f"{file.name}: not UTF-8 text; stopped there", err=True)
            raise typer.Exit(2) from exc
        if ledger is not None and pending_rows:
            _post(ledger, pending_rows, tally)
    rows = sum(tally.values())
    parts = [f"{_number(tally[name])} {name}" for name in (
        "posted", "pending", "awaiting_cap", "already imported", "ready", "refused", "malformed")
        if tally[name]]
    typer.echo(f"{file.name}: {_number(rows)} rows: {', '.join(parts) or 'nothing'}"
               + (" (dry run, nothing posted)" if dry_run else ""))
    if tally["refused"] or tally["malformed"]:
        raise typer.Exit(1)
