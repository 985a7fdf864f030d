"""The expiry sweep's work list (`ledger.service.due_reservations`) is the same as the plain
definition over the whole history, on generated data at several moments, on SQLite and
PostgreSQL; and on SQLite it reads no table from end to end."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from api.bootstrap import Backend
from db.commands import Actor
from db.tables import LedgerEntry, WageReport
from ledger import ReportWage, WageReportResult
from ledger.service.due_reservations import (
    _BY_CARD,
    _BY_REPORT,
    _PENDING,
    _RESERVED_NOTHING,
    due_reservation_keys,
)
from sampledata import generate, plan_for_scale
from tests.ledger.support import FakeClock, make_config, prepare_database, raw_engine

NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
TTL = dt.timedelta(days=7)


def _by_definition(session: Session, now: dt.datetime,
                   reserved_before: dt.datetime) -> list[tuple[int, int]]:
    """Every reserve entry of the history without a settling entry, past its expiry."""
    settled = aliased(LedgerEntry, name="settled")
    rows = session.execute(
        select(WageReport.card_id, WageReport.year)
        .join(LedgerEntry, and_(LedgerEntry.report_id == WageReport.id,
                                LedgerEntry.kind == "reserve"))
        .where(WageReport.expires_at <= now, LedgerEntry.created_at <= reserved_before,
               ~exists().where(settled.report_id == WageReport.id,
                               settled.kind.in_(("post", "void", "expire", "reverse"))))
        .distinct()).all()
    return sorted((int(card_id), int(year)) for card_id, year in rows)


def _generated(url: str) -> None:
    prepare_database(url)
    generate(make_config(url), plan_for_scale(0.01, now=NOW, seed=11))


def _open_reservations(url: str) -> None:
    """Through the service, on two generated cards: a pending report that reserves room, and
    one that reserves nothing (its card filled up to the cap by a posted report first), so
    each half of the query has something to find."""
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            cards = conn.execute(sa.text(
                "SELECT c.number, e.cvr FROM cards c JOIN employments m ON m.card_id = c.id"
                " JOIN employers e ON e.id = m.employer_id WHERE c.status = 'active'"
                " AND m.end_date IS NULL AND e.verified ORDER BY c.id")).all()
    finally:
        engine.dispose()
    (room_card, room_cvr), (full_card, full_cvr) = cards[0], next(
        card for card in cards if card[0] != cards[0][0])
    ledger = Backend(make_config(url), clock=FakeClock(NOW))

    def report(number: str, cvr: str, key: str, amount: int, post: bool) -> WageReportResult:
        return ledger.report_wage(ReportWage(
            employer_cvr=cvr, card_number=number, paid_on=NOW.date(), hours=Decimal(2),
            amount_ore=amount, idempotency_key=key, post=post),
            actor=Actor(name="t", channel="api"))

    try:
        assert report(room_card, room_cvr, "room", 300_00, False).counted_ore == 300_00
        room = ledger.balance(full_card).remaining_ore or 0
        report(full_card, full_cvr, "fill", room + 100_00, True)
        nothing = report(full_card, full_cvr, "nothing", 200_00, False)
        assert (nothing.status, nothing.counted_ore, nothing.balance.pending_ore) == (
            "pending", 0, 0)
    finally:
        ledger.close()


def test_the_same_card_years_as_the_definition(db_url: str) -> None:
    _generated(db_url)
    _open_reservations(db_url)
    engine = raw_engine(db_url)
    try:
        with Session(engine) as session:
            found = []
            for days in (-400, 0, 3, 8, 30):
                now = NOW + dt.timedelta(days=days)
                expected = _by_definition(session, now, now - TTL)
                assert due_reservation_keys(session, now, now - TTL) == expected, days
                found.append(len(expected))
            assert found == [0, 0, 0, 2, 2], found
            assert due_reservation_keys(session, NOW + 10 * TTL, None) == _by_definition(
                session, NOW + 10 * TTL, NOW + 10 * TTL)
    finally:
        engine.dispose()


def test_no_statement_reads_a_table_end_to_end(tmp_path: Path) -> None:
    """SQLite's plans (it has no statistics, so they are fixed): the balances are scanned,
    the history only looked up by index."""
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    _generated(url)
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            scans = []
            values = {"ids": [1, 2], "now": NOW, "reserved_before": NOW}
            for statement in (_PENDING, _RESERVED_NOTHING,
                              _BY_CARD[True].bindparams(**values, years=[2026]),
                              _BY_REPORT[True].bindparams(**values)):
                sql = str(statement.compile(engine, compile_kwargs={"render_postcompile": True}))
                count = sql.count("?")
                plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, (1,) * count).all()
                scans += [str(row[3]) for row in plan if str(row[3]).startswith("SCAN")]
    finally:
        engine.dispose()
    assert scans == ["SCAN card_balances",
                     "SCAN ledger_entries USING INDEX ix_ledger_entries_reserved_nothing"
                     ], scans
