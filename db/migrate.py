"""Schema migrations, run programmatically so the CLI and the tests use the same path."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("db") / "migrations"))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Brings the database at `database_url` to the newest schema."""
    _ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), revision)


def _ensure_sqlite_directory(database_url: str) -> None:
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and database_url != "sqlite:///:memory:":
        from pathlib import Path

        Path(database_url[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
