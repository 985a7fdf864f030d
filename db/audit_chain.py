"""The audit log as a hash chain: each row carries the hash of the row before it and its own.

The append-only triggers stop the application from changing the log; they do not stop the
database's owner, who can switch them off. With the chain, a row changed, removed or slipped in
afterwards no longer fits: its own hash, or the next row's `prev_hash`, gives it away, and
`frikort audit verify` names the first row where that happens. (Removing rows from the very
end leaves a shorter chain that still fits: keep the head hash `verify` prints somewhere else,
e.g. in the operator's log, and compare.)

Rows are chained in id order, one database-wide chain. Every insert goes through `append`,
at commit time (UnitOfWork.commit): on PostgreSQL under a transaction-level advisory lock,
taken last in the transaction so it cannot deadlock with row locks, and ids are drawn under
it, so id order is chain order (all of it in the function `frikort_audit_append`, one round
trip); on SQLite the write transaction already holds the one write lock. The hash format (`row_hash`) is fixed: the migration that chained existing rows and
`verify` both use it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from db.base import table_of
from db.tables import AuditRecord

GENESIS = "0" * 64
"""The `prev_hash` of the first row."""
LOCK_KEY = 0x66726B61756474  # "frkaudt": the advisory lock every audit insert takes
_AUDIT = table_of(AuditRecord)
_BATCH = 5000
_APPEND = text("SELECT frikort_audit_append(CAST(:rows AS json), :key, :genesis)")
"""PostgreSQL: the lock, the tail and the inserts (migration 2026-12-07_write_functions)."""


def row_hash(prev_hash: str, row: Mapping[Any, Any]) -> str:
    """SHA-256 over the previous hash and every column of the row, as canonical JSON."""
    payload = f'["{prev_hash}",{int(row["id"])},{fields_json(row)}]'
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def fields_json(row: Mapping[Any, Any]) -> str:
    """The hashed JSON array's elements after the previous hash and the id, comma-separated.

    The hash is over `["<prev_hash>",<id>,<these>]` (`json.dumps` of the whole list with no
    spaces and no ASCII escaping): a hex hash and an integer need no escaping, so the
    database can put the two it draws around this text itself (`frikort_audit_append`).
    """
    at = row["at"]
    fields = [_utc_text(at) if isinstance(at, dt.datetime) else at, row["actor"],
              row["channel"], row["action"], row["entity_type"], str(row["entity_id"]),
              row["details_json"]]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))[1:-1]


def _utc_text(at: dt.datetime) -> str:
    """A moment as the hash and the server read it: UTC, ISO 8601, with microseconds."""
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def chained(rows: Iterable[Mapping[str, Any]], first_id: int,
            prev_hash: str) -> Iterator[dict[str, Any]]:
    """The rows with ids from `first_id` on and their chain hashes (for bulk writers)."""
    for offset, row in enumerate(rows):
        linked = {**row, "id": first_id + offset, "prev_hash": prev_hash}
        linked["row_hash"] = prev_hash = row_hash(prev_hash, linked)
        yield linked


def tail(conn: Connection) -> tuple[int, str]:
    """(id, hash) of the last row, or (0, GENESIS) for an empty log."""
    last = conn.execute(select(_AUDIT.c.id, _AUDIT.c.row_hash)
                        .order_by(_AUDIT.c.id.desc()).limit(1)).first()
    if last is None:
        return 0, GENESIS
    return int(last.id), last.row_hash or GENESIS


def append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Inserts `rows` at the end of the chain; call last in the transaction, just before it
    commits (the PostgreSQL lock is held until then)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # The lock, the tail (read after the lock: under READ COMMITTED the function's next
        # statement sees every row committed by the lock's previous holder) and the rows
        # with their hashes, in one round trip.
        conn.execute(_APPEND, {"rows": _rows_json(rows), "key": LOCK_KEY, "genesis": GENESIS})
        return
    last_id, prev = tail(conn)
    conn.execute(_AUDIT.insert(), list(chained(rows, last_id + 1, prev)))


def _rows_json(rows: list[dict[str, Any]]) -> str:
    """The rows for `frikort_audit_append`: their columns and their hashed fields' text."""
    encoded = []
    for row in rows:
        encoded.append({"at": _utc_text(row["at"]), "actor": row["actor"], "channel": row["channel"],
                        "action": row["action"], "entity_type": row["entity_type"],
                        "entity_id": str(row["entity_id"]), "details_json": row["details_json"],
                        "fields": fields_json(row)})
    return json.dumps(encoded, ensure_ascii=False)


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head: str
    """The last row's hash: record it elsewhere to notice rows removed from the end."""
    broken_at: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(conn: Connection) -> ChainReport:
    """Walks the whole chain in id order and reports the first row that does not fit."""
    expected, count, after = GENESIS, 0, 0
    while True:
        batch = conn.execute(select(_AUDIT).where(_AUDIT.c.id > after)
                             .order_by(_AUDIT.c.id).limit(_BATCH)).mappings().all()
        if not batch:
            return ChainReport(count, expected)
        for row in batch:
            count += 1
            if row["prev_hash"] != expected:
                return ChainReport(count, expected, row["id"],
                                   "its link to the row before does not match: a row before "
                                   "it was removed, inserted or changed")
            if row["row_hash"] != row_hash(expected, row):
                return ChainReport(count, expected, row["id"],
                                   "its contents changed after it was written")
            expected = row["row_hash"]
        after = batch[-1]["id"]
