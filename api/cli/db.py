"""`frikort db upgrade`."""

from __future__ import annotations

import typer

from api.settings import Settings
from ledger import upgrade as upgrade_schema

app = typer.Typer(no_args_is_help=True, help="Database schema")


@app.command("upgrade")
def upgrade() -> None:
    """Brings the database in DATABASE_URL to the newest schema (creates it for SQLite)."""
    settings = Settings()
    upgrade_schema(settings.DATABASE_URL)
    typer.echo("database schema is up to date")
