"""`frikort audit verify`: walks the audit log's hash chain (ledger/audit_chain.py)."""

from __future__ import annotations

import typer

from api.cli.context import open_ledger

app = typer.Typer(no_args_is_help=True, help="The audit log")


@app.command("verify")
def verify() -> None:
    """Checks every audit row against its hash and the row before it. Exit status 1, naming
    the first row that does not fit, when a row was changed, removed or inserted."""
    with open_ledger() as ledger:
        report = ledger.verify_audit_chain()
    if not report.intact:
        typer.echo(f"audit log: chain broken at row {report.broken_at}: {report.reason} "
                   f"({report.rows} rows read)", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit log: {report.rows} rows, chain intact; head {report.head}")
