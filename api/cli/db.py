"""`frikort db upgrade`."""

from __future__ import annotations

import typer

from api.cli.context import load_settings
from db.migrate import upgrade as upgrade_schema

app = typer.Typer(no_args_is_help=True, help="Database schema")


@app.command("upgrade")
def upgrade() -> None:
    """Brings the database in DATABASE_URL to the newest schema (creates it for SQLite)."""
    settings = load_settings()
    upgrade_schema(settings.DATABASE_URL)
    typer.echo("database schema is up to date")
