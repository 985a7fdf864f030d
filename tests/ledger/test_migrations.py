"""The migrations build exactly the schema the mappings describe, on SQLite and PostgreSQL:
Alembic's autogenerate comparison of a freshly migrated database with the mappings is empty.

A mapping changed without a migration (or a migration that differs from its mapping) shows
up here as a difference, before `frikort db upgrade` leaves a production database behind.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db import (  # noqa: F401  (the mappings)
    api_key_tables,
    console_tables,
    conversation_tables,
    tables,
    task_tables,
)
from db.base import Base
from db.migrate import upgrade


def _differences(url: str, metadata: sa.MetaData) -> list[Any]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "compare_server_default": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_migrations_match_the_mappings(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    assert _differences(empty_db_url, Base.metadata) == []


def test_the_comparison_sees_a_difference(empty_db_url: str) -> None:
    """Negative control: a column the migrations never made is reported."""
    upgrade(empty_db_url)
    changed = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        copy = table.to_metadata(changed)
        if table.name == "escalation_notes":
            copy.append_column(sa.Column("pinned", sa.Boolean(), nullable=True))
    found = _differences(empty_db_url, changed)
    assert [(d[0], d[2], d[3].name) for d in found] == [
        ("add_column", "escalation_notes", "pinned")]
