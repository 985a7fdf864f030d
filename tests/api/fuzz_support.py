"""Shared by the fuzz tests: one engine per database for the checks, and the inbound rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from db.conversation_tables import TranscriptMessage
from tests.ledger.support import raw_engine

_engines: dict[str, sa.Engine] = {}


def engine_for(url: str) -> sa.Engine:
    """One engine per database for the checks (a fresh one per query would dominate the run)."""
    if url not in _engines:
        _engines[url] = raw_engine(url)
    return _engines[url]


def dispose_engines() -> None:
    while _engines:
        _engines.popitem()[1].dispose()


def inbound_count(url: str) -> int:
    table = TranscriptMessage.__table__
    with engine_for(url).connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).where(table.c.direction == "in")) or 0)


def inbound_rows(url: str, provider_id: str) -> list[dict[str, Any]]:
    table = TranscriptMessage.__table__
    with engine_for(url).connect() as conn:
        return [dict(row._mapping) for row in conn.execute(
            sa.select(table).where(table.c.direction == "in",
                                   table.c.provider_message_id == provider_id))]
