"""The expiry sweep's work list, found without reading the whole history.

Every server process runs the sweep once a minute. Its first form joined every reserve entry
ever written with its settling entries: at national scale (500.000 reports over three years)
that took 0.7 s on PostgreSQL and 3 s on SQLite per run, and it grows with every report ever
made (docs/national-bench.md). Open reservations are few and recent, and two facts find them:

* a reservation that holds room (counted > 0) keeps its own card-year's `pending_ore` above
  zero (pending is the sum of the open reservations' counted amounts, which
  `check_invariants` checks), so only the entries of cards with something pending are read;
* a reservation of nothing (a report wholly over the cap, counted = 0) holds no room; such
  entries are rare and sit in `ix_ledger_entries_reserved_nothing`, a partial index.

Both lists are read first and then passed as explicit ids, so each database looks the
candidates up by index whatever it estimates (PostgreSQL misjudges the partial index's rows
and SQLite has no statistics here: either would otherwise scan the history).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

from db.tables import RESERVED_NOTHING, UtcDateTime

CHUNK = 500
"""Ids per statement (SQLite allows some thousands of parameters)."""
_PENDING = text("SELECT card_id, year FROM card_balances WHERE pending_ore > 0")
_RESERVED_NOTHING = text(f"SELECT report_id FROM ledger_entries WHERE {RESERVED_NOTHING}")


def _candidates(by: str, with_cutoff: bool) -> TextClause:
    """Open reservations past expiry among the entries whose `by` column is in :ids (and,
    by card, whose year is in :years)."""
    cutoff = " AND e.created_at <= :reserved_before" if with_cutoff else ""
    if by == "e.card_id":
        cutoff += " AND e.year IN :years"
    params = [bindparam("ids", expanding=True), bindparam("now", type_=UtcDateTime())]
    if by == "e.card_id":
        params.append(bindparam("years", expanding=True))
    if with_cutoff:
        params.append(bindparam("reserved_before", type_=UtcDateTime()))
    return text(
        "SELECT DISTINCT r.card_id, r.year FROM ledger_entries AS e"
        " JOIN wage_reports AS r ON r.id = e.report_id"
        f" WHERE {by} IN :ids AND e.kind = 'reserve' AND r.expires_at <= :now{cutoff}"
        " AND NOT EXISTS (SELECT 1 FROM ledger_entries AS s WHERE s.report_id = r.id"
        " AND s.kind IN ('post', 'void', 'expire', 'reverse'))"
    ).bindparams(*params)


_BY_CARD = {cutoff: _candidates("e.card_id", cutoff) for cutoff in (True, False)}
_BY_REPORT = {cutoff: _candidates("e.report_id", cutoff) for cutoff in (True, False)}


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


def due_reservation_keys(session: Session, now: dt.datetime,
                         reserved_before: dt.datetime | None) -> list[tuple[int, int]]:
    """(card id, year) of every card-year with an open reservation past its expiry."""
    conn = session.connection()
    cutoff = reserved_before is not None
    params: dict[str, object] = {"now": now}
    if cutoff:
        params["reserved_before"] = reserved_before
    pending = {(int(card), int(year)) for card, year in conn.execute(_PENDING)}
    found: set[tuple[int, int]] = set()
    years = sorted({year for _, year in pending})
    for ids in _chunks(sorted({card for card, _ in pending})):
        found.update((int(c), int(y)) for c, y in conn.execute(
            _BY_CARD[cutoff], {**params, "ids": ids, "years": years}))
    nothing = sorted(int(report_id) for report_id, in conn.execute(_RESERVED_NOTHING))
    for ids in _chunks(nothing):
        found.update((int(c), int(y)) for c, y in conn.execute(_BY_REPORT[cutoff],
                                                               {**params, "ids": ids}))
    return sorted(found)
