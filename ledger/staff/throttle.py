"""Failed console logins counted per account ("user:NAME") and per address ("addr:IP").

A key collects failures in a window (`failure_window_seconds`); reaching its limit locks it
for `lockout_seconds`. Keys for usernames that do not exist are counted the same way, so a
lock says nothing about whether an account exists. Rows are locked in a fixed order (the
account key, then the address key), so two logins cannot deadlock each other.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ledger.config import StaffConfig
from ledger.db.console_tables import LoginThrottle

_MAX_KEY = 200


def account_key(username: str) -> str:
    return f"user:{username}"[:_MAX_KEY]


def address_key(address: str) -> str:
    return f"addr:{address}"[:_MAX_KEY]


def locked_until(session: Session, keys: tuple[str, ...], now: dt.datetime) -> dt.datetime | None:
    """The latest lock still in force on any of the keys, or None."""
    until = session.scalar(select(LoginThrottle.locked_until)
                           .where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now)
                           .order_by(LoginThrottle.locked_until.desc()).limit(1))
    return until


def record_failure(
    session: Session, key: str, limit: int, config: StaffConfig, now: dt.datetime
) -> dt.datetime | None:
    """Counts one failure under the row's lock; returns the lock's end when the key is locked."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle)
                    .values(key=key, failures=0, window_started_at=now, locked_until=None)
                    .on_conflict_do_nothing(index_elements=["key"]))
    row = session.scalars(select(LoginThrottle).where(LoginThrottle.key == key)
                          .with_for_update()
                          .execution_options(populate_existing=True)).one()
    if row.locked_until is not None and row.locked_until > now:
        return row.locked_until  # already locked: the lock is not extended by more attempts
    window = dt.timedelta(seconds=config.failure_window_seconds)
    if row.locked_until is not None or now - row.window_started_at >= window:
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + dt.timedelta(seconds=config.lockout_seconds)
    session.flush()
    return row.locked_until


def clear(session: Session, key: str) -> None:
    """A successful login forgets the account's earlier failures."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
