"""Failed console logins counted per account ("user:NAME") and per address ("addr:IP").

A key collects failures in a window (`failure_window_seconds`); reaching its limit locks it
for `lockout_seconds`. Keys for usernames that do not exist are counted the same way, so a
lock says nothing about whether an account exists. Rows are locked in a fixed order (the
account key, then the address key), so two logins cannot deadlock each other.

A row stops mattering once its lock is over, or, never locked, once its window is over (the
next failure would start afresh either way); `prune` deletes those, so the table does not
keep every username tried and every address tried from (the retention job runs it daily).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.config import StaffConfig
from db.console_tables import LoginThrottle

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
    # DO UPDATE (changing nothing) rather than DO NOTHING: it locks an existing row at once,
    # so `prune` cannot delete it between this statement and the next.
    session.execute(insert(LoginThrottle)
                    .values(key=key, failures=0, window_started_at=now, locked_until=None)
                    .on_conflict_do_update(index_elements=["key"],
                                           set_={"failures": LoginThrottle.failures}))
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


def _stale(config: StaffConfig, now: dt.datetime) -> ColumnElement[bool]:
    window_start = now - dt.timedelta(seconds=config.failure_window_seconds)
    return or_(LoginThrottle.locked_until <= now,
               and_(LoginThrottle.locked_until.is_(None),
                    LoginThrottle.window_started_at <= window_start))


def prune(session: Session, config: StaffConfig, now: dt.datetime, *,
          dry_run: bool = False) -> int:
    """Deletes rows that no longer lock or count anything; returns how many (would) go."""
    if dry_run:
        return int(session.scalar(select(func.count()).select_from(LoginThrottle)
                                  .where(_stale(config, now))) or 0)
    result = session.execute(delete(LoginThrottle).where(_stale(config, now)))
    return int(getattr(result, "rowcount", 0) or 0)
