"""History cannot be rewritten: the database itself refuses, whatever the application does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from db.base import Base
from db.triggers import APPEND_ONLY_TABLES
from ledger import PostReport, ReverseReport, SetCap
from tests.ledger.support import ADMIN, Env, dump_tables, make_env, raw_engine


@pytest.fixture
def populated(db_url: str) -> Iterator[Env]:
    """A ledger with at least one row in every append-only table."""
    env = make_env(db_url)
    first = env.report(10_000_00, "a")
    env.ledger.post_report(PostReport(report_id=first.id), actor=ADMIN)
    env.ledger.reverse_report(ReverseReport(report_id=first.id, reason="rettelse"), actor=ADMIN)
    env.report(40_000_00, "b", post=True)
    env.ledger.set_cap(SetCap(year=2031, amount_ore=1_00, source="test"), actor=ADMIN)
    yield env
    try:
        assert env.ledger.check_invariants() == []
    finally:
        env.ledger.close()


def _refused(engine: sa.Engine, sql: str) -> str:
    """Runs one statement in its own transaction and returns the database's refusal."""
    with pytest.raises(sa.exc.DBAPIError) as info:  # noqa: PT012
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    return str(info.value.orig)


def _some_column(table: str) -> str:
    columns = [c.name for c in Base.metadata.tables[table].columns if not c.primary_key]
    return columns[0]


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_update_and_delete_are_refused(populated: Env, table: str) -> None:
    before = dump_tables(populated.url)
    assert before[table], f"{table} has no rows: the trigger would not be exercised"
    engine = raw_engine(populated.url)
    try:
        column = _some_column(table)
        for sql in (f"UPDATE {table} SET {column} = {column}",
                    f"DELETE FROM {table}",
                    f"DELETE FROM {table} WHERE {column} IS NOT NULL"):
            assert "append-only" in _refused(engine, sql), sql
        if engine.dialect.name == "postgresql":
            assert "append-only" in _refused(engine, f"TRUNCATE {table} CASCADE")
    finally:
        engine.dispose()
    assert dump_tables(populated.url) == before


def test_every_ledger_history_table_is_guarded() -> None:
    """The tables that carry history are all on the list (a new one must be added)."""
    assert {"wage_reports", "ledger_entries", "card_events", "cap_versions", "audit_log",
            "idempotency_records"} <= set(APPEND_ONLY_TABLES)
    assert set(APPEND_ONLY_TABLES) <= set(Base.metadata.tables)


def _balance_update(engine: sa.Engine, assignment: str) -> str:
    return _refused(engine, f"UPDATE card_balances SET {assignment} WHERE year = 2025")


@pytest.mark.parametrize(
    "assignment",
    ["posted_ore = cap_ore + 1",
     "pending_ore = cap_ore - posted_ore + 1",
     "cap_ore = posted_ore + pending_ore - 1",
     "posted_ore = -1",
     "over_cap_ore = -1",
     "awaiting_ore = -1"],
)
def test_check_constraints_on_the_balance_row(populated: Env, assignment: str) -> None:
    engine = raw_engine(populated.url)
    try:
        with engine.connect() as conn:
            posted, cap = conn.execute(sa.text(
                "SELECT posted_ore, cap_ore FROM card_balances WHERE year = 2025")).one()
        assert (posted, cap) == (40_000_00, 42_766_00)
        message = _balance_update(engine, assignment).lower()
        assert "check" in message or "constraint" in message
    finally:
        engine.dispose()


def test_balance_row_can_still_be_moved_within_the_rules(populated: Env) -> None:
    """The control for the test above: an in-bounds update by hand is accepted (then undone)."""
    engine = raw_engine(populated.url)
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            moved = conn.execute(sa.text(
                "UPDATE card_balances SET posted_ore = cap_ore WHERE year = 2025")).rowcount
            assert moved == 1
            trans.rollback()
    finally:
        engine.dispose()
