"""Engines per dialect: SQLite takes its write lock up front, PostgreSQL locks rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ledger.config import LedgerConfig


@dataclass(frozen=True)
class Engines:
    """A writer and a reader. They are the same engine except on SQLite."""

    write: Engine
    read: Engine

    def dispose(self) -> None:
        self.write.dispose()
        if self.read is not self.write:
            self.read.dispose()


def _sqlite_engine(config: LedgerConfig, begin_statement: str) -> Engine:
    engine = create_engine(
        config.database_url,
        connect_args={"check_same_thread": False, "timeout": config.sqlite_busy_timeout_ms / 1000},
        pool_size=config.pool_size,
        max_overflow=config.pool_size,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below: pysqlite would
        # otherwise delay BEGIN until the first write and break isolation.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={config.sqlite_busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # BEGIN IMMEDIATE takes the write lock at once, so busy_timeout applies instead of
        # an immediate SQLITE_BUSY when a read-then-write transaction tries to upgrade.
        conn.exec_driver_sql(begin_statement)

    return engine


def make_engines(config: LedgerConfig) -> Engines:
    if config.database_url.startswith("sqlite"):
        return Engines(
            write=_sqlite_engine(config, "BEGIN IMMEDIATE"),
            read=_sqlite_engine(config, "BEGIN"),
        )
    engine = create_engine(
        config.database_url,
        pool_size=config.pool_size,
        max_overflow=config.pool_size * 2,
        pool_pre_ping=True,
    )
    return Engines(write=engine, read=engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
