"""Compiled SQL is shared by engines of the same kind of database (db/compiled_sql.py), and by
nothing else: a statement compiled for SQLite is never run on PostgreSQL, and the same statement
gives the same rows through any engine."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from db.compiled_sql import SharedCompiledCache
from db.engine import make_engines
from tests import databases
from tests.ledger.support import make_config

QUERY = sa.text("SELECT :a + 1 AS answer")


def _engine(url: str, cache: SharedCompiledCache) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool,
                            execution_options={"compiled_cache": cache})


def _run(engine: sa.Engine, statement: sa.Executable, **params: object) -> tuple[object, str]:
    with engine.connect() as conn:
        result = conn.execute(statement, params)
        rows = result.all()
        context = result.context
        return rows, context.cache_hit.name


def test_two_sqlite_engines_share_what_they_compiled(tmp_path: Path) -> None:
    cache = SharedCompiledCache()
    first = _engine(databases.sqlite_copy(tmp_path / "one.db"), cache)
    second = _engine(databases.sqlite_copy(tmp_path / "two.db"), cache)
    cards = sa.table("cards", sa.column("number"))
    query = sa.select(cards.c.number).where(cards.c.number == sa.bindparam("n"))
    assert _run(first, query, n="48213") == ([], "CACHE_MISS")
    assert _run(second, query, n="11111") == ([], "CACHE_HIT")
    assert _run(second, QUERY, a=41)[0] == [(42,)]
    assert _run(first, QUERY, a=1) == ([(2,)], "CACHE_HIT")
    first.dispose()
    second.dispose()


@pytest.mark.postgres
def test_sqlite_and_postgresql_never_share(tmp_path: Path, postgres_url: str) -> None:
    cache = SharedCompiledCache()
    sqlite = _engine(databases.sqlite_copy(tmp_path / "one.db"), cache)
    postgres = _engine(postgres_url, cache)
    assert _run(sqlite, QUERY, a=1) == ([(2,)], "CACHE_MISS")
    assert _run(postgres, QUERY, a=1) == ([(2,)], "CACHE_MISS")
    assert _run(postgres, QUERY, a=2) == ([(3,)], "CACHE_HIT")
    assert len(cache) == 2
    sqlite.dispose()
    postgres.dispose()


def test_the_ledger_engines_use_the_process_cache(tmp_path: Path) -> None:
    """The reader and the writer of one SQLite database, and a second database's engines,
    compile a statement once between them."""
    urls = [databases.sqlite_copy(tmp_path / f"{name}.db") for name in ("a", "b")]
    engines = [make_engines(make_config(url)) for url in urls]
    statement = sa.text("SELECT count(*) FROM cap_versions WHERE year > :year")
    try:
        seen = [_run(engine, statement, year=2000 + i)[1]
                for i, pair in enumerate(engines) for engine in (pair.write, pair.read)]
    finally:
        for pair in engines:
            pair.dispose()
    assert seen[0] in ("CACHE_MISS", "CACHE_HIT")  # another test may have run it first
    assert seen[1:] == ["CACHE_HIT"] * 3


def test_a_dialect_that_has_not_met_its_server_shares_nothing() -> None:
    engine = sa.create_engine("sqlite://")
    cache = SharedCompiledCache()
    assert engine.dialect.server_version_info is None
    assert cache.signature(engine.dialect) is engine.dialect
    with engine.connect():
        pass
    assert cache.signature(engine.dialect) != engine.dialect
    assert cache.signature(engine.dialect)[0] is type(engine.dialect)


def test_the_cache_keeps_only_the_most_recently_used() -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect():
        pass
    cache = SharedCompiledCache(size=2)
    keys = [(engine.dialect, name) for name in ("a", "b", "c")]
    cache[keys[0]] = "A"
    cache[keys[1]] = "B"
    assert cache.get(keys[0]) == "A"  # now the most recent
    cache[keys[2]] = "C"
    assert (cache.get(keys[0]), cache.get(keys[1]), cache.get(keys[2])) == ("A", None, "C")
    assert len(cache) == 2
