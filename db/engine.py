"""Engines per dialect: SQLite takes its write lock up front, PostgreSQL locks rows.

A PostgreSQL outage must not hang requests or leave a broken pool behind: a checkout pings a
connection that has been idle in the pool for `PING_AFTER_IDLE_S` (a dead one is replaced, so
the pool recovers by itself once the server is back; a statement that finds its connection
dead invalidates every older one of the pool, and the webhook answers 503), connecting gives
up after `CONNECT_TIMEOUT_S`, and TCP keepalives plus a user timeout notice a server that
vanished without closing the socket (a network cut). Each of these libpq parameters can be
overridden in DATABASE_URL's query string.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from db.compiled_sql import PROCESS_COMPILED_SQL
from db.config import LedgerConfig

CONNECT_TIMEOUT_S = 5
"""Twilio waits 15 s for a webhook's answer: a 503 in time beats a connect that hangs."""
PING_AFTER_IDLE_S = 1.0
"""A connection back in the pool for less than this is used without a ping: under traffic,
connections are reused within milliseconds, and a server restart takes longer than this."""
PG_CONNECT_ARGS: dict[str, int] = {
    "connect_timeout": CONNECT_TIMEOUT_S,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # ms: unacknowledged writes give up instead of ~15 minutes
}
DATABASE_ERROR_TYPES: tuple[type[Exception], ...] = (exc.DBAPIError, exc.TimeoutError)
"""What a database failure surfaces as (the api registers its 503 handler on these, then asks
`is_database_unavailable`), so the layers above need not import SQLAlchemy."""
_SQLITE_TRANSIENT = ("database is locked", "database is busy", "unable to open database file",
                     "disk i/o error")


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
        execution_options={"compiled_cache": PROCESS_COMPILED_SQL},
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
        pool_use_lifo=True,  # the busy connections stay busy, so they need no ping
        pool_timeout=CONNECT_TIMEOUT_S * 2,
        connect_args=_pg_connect_args(config.database_url),
        execution_options={"compiled_cache": PROCESS_COMPILED_SQL},
    )
    _ping_when_idle(engine)
    return Engines(write=engine, read=engine)


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, for connections that sat idle: a ping is a round trip, and
    pinging every checkout cost two per message (0.1-0.2 ms of CPU each, and PostgreSQL's)."""
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is not None and time.monotonic() - returned_at < PING_AFTER_IDLE_S:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as error:  # any failure: the pool replaces it (up to three tries)
            raise exc.DisconnectionError("ping failed") from error


def ping(session: Session) -> None:
    """One round trip (readiness): raises when the database cannot be reached."""
    session.execute(text("SELECT 1"))


def _pg_connect_args(database_url: str) -> dict[str, int]:
    """The outage defaults above, except those DATABASE_URL sets itself."""
    given = set(make_url(database_url).query)
    return {name: value for name, value in PG_CONNECT_ARGS.items() if name not in given}


def is_database_unavailable(error: BaseException) -> bool:
    """True when `error` (or what caused it) means the database cannot be reached or refused
    for now: a lost or refused connection, a server shutting down or starting up, a pool with
    no connection to give, a busy SQLite file. Asking again later may succeed; the webhooks
    answer 503 so the provider does. Bugs (a missing table, a bad statement) are not this."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unavailable(current):
            return True
        current = current.__cause__
    return False


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, exc.TimeoutError):  # no pooled connection free within pool_timeout
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, exc.InterfaceError):
            return True
        return _unavailable(error.orig) if error.orig is not None else False
    if isinstance(error, sqlite3.OperationalError):
        return any(text in str(error).lower() for text in _SQLITE_TRANSIENT)
    module = type(error).__module__
    if module == "psycopg" or module.startswith("psycopg."):
        import psycopg

        return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)
    return False


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
