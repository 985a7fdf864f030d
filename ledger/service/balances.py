"""The per card-year balance row: created on demand, locked by every writer, moved only by entries.

The write path runs on SQLAlchemy Core (one compiled statement each, no unit-of-work flush):
each ORM flush or ORM-loaded row cost several times the statement itself in Python CPU. On
PostgreSQL a new report does the same steps inside `frikort_count_report` (report_count.py);
posting, voiding, reversing and the expiry sweep use the functions here on both databases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Row,
    Select,
    TextClause,
    bindparam,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from db.base import table_of
from db.tables import CapVersion, Card, CardBalance, Citizen, IdempotencyRecord, LedgerEntry
from ledger.results import Balance

_BALANCES = table_of(CardBalance)
_ENTRIES = table_of(LedgerEntry)
_CAPS = table_of(CapVersion)
_KEYS = table_of(IdempotencyRecord)


@dataclass(frozen=True)
class CapInForce:
    amount_ore: int
    is_demo: bool


@dataclass
class LockedBalance:
    """A card-year balance row held under its lock for the rest of the transaction.

    Its fields are the row as it stands in this transaction: `append_entry` moves the row in
    the database and this copy by the same amounts. `cap` is the cap in force, read after
    the lock was taken (None while no cap is loaded for the year).
    """

    card_id: int
    year: int
    cap_ore: int
    posted_ore: int
    pending_ore: int
    over_cap_ore: int
    awaiting_ore: int
    entry_count: int
    cap: CapInForce | None = None
    stored_key: tuple[str, str] | None = None
    """With `lock_balance(..., key=...)`: (request hash, result JSON) of a record for that
    idempotency key committed before the lock was granted, if any."""

    @property
    def used_ore(self) -> int:
        return self.posted_ore + self.pending_ore

    def move(self, movement: Movement) -> None:
        """Moves this copy; the caller has moved the row by the same amounts, with one entry."""
        self.awaiting_ore += movement.awaiting
        self.pending_ore += movement.pending
        self.posted_ore += movement.posted
        self.over_cap_ore += movement.over_cap
        self.entry_count += 1


def _lock_statement(dialect: str) -> TextClause:
    """INSERT ... ON CONFLICT (card_id, year) DO UPDATE ... RETURNING the row.

    One statement creates the row when it is the card-year's first and takes the row lock
    either way: on PostgreSQL the DO UPDATE branch locks the conflicting row like an UPDATE
    (waiting for any other holder, then working on its newest committed version, so RETURNING
    shows what that writer left), and the insert branch holds the new row's lock until
    commit. On SQLite, BEGIN IMMEDIATE already holds the database's write lock. The no-op
    assignment keeps every column as it was. The same text serves both dialects (SQLite
    3.35+ has RETURNING); as text it is compiled once, where the dialects' on_conflict
    constructs have no cache key and were compiled again for every report.
    """
    del dialect  # one text for both
    return _LOCK


_LOCK = text(
    "INSERT INTO card_balances (card_id, year, cap_ore, posted_ore, pending_ore, over_cap_ore,"
    " awaiting_ore, entry_count) VALUES (:p_card_id, :p_year, 0, 0, 0, 0, 0, 0)"
    " ON CONFLICT (card_id, year) DO UPDATE SET card_id = excluded.card_id"
    " RETURNING card_id, year, cap_ore, posted_ore, pending_ore, over_cap_ore, awaiting_ore,"
    " entry_count"
)


_CAP_IN_FORCE = (
    select(_CAPS.c.amount_ore, _CAPS.c.is_demo)
    .where(_CAPS.c.year == bindparam("p_year", type_=Integer))
    .order_by(_CAPS.c.id.desc())
    .limit(1)
)


def _cap_and_key() -> Select[Any]:
    """The cap in force, and the idempotency record for a key if one exists: one SELECT."""
    one = select(literal(1).label("one")).subquery("one")
    newest = (select(func.max(_CAPS.c.id))
              .where(_CAPS.c.year == bindparam("p_year", type_=Integer)).scalar_subquery())
    return (
        select(_CAPS.c.amount_ore, _CAPS.c.is_demo, _KEYS.c.request_hash, _KEYS.c.result_json)
        .select_from(one)
        .outerjoin(_CAPS, _CAPS.c.id == newest)
        .outerjoin(_KEYS, (_KEYS.c.scope == bindparam("p_scope"))
                   & (_KEYS.c.key == bindparam("p_key")))
    )


_CAP_AND_KEY = _cap_and_key()


def read_cap(conn: Connection, year: int) -> CapInForce | None:
    """The newest cap set for a year (amount and demo flag), or None."""
    row = conn.execute(_CAP_IN_FORCE, {"p_year": year}).first()
    return CapInForce(int(row[0]), bool(row[1])) if row is not None else None


def lock_balance(
    session: Session, card_id: int, year: int, *, counting: bool = False, year_held: bool = False,
    key: tuple[str, str] | None = None,
) -> LockedBalance:
    """Takes the row lock that serialises all writers for one card and year.

    The cap in force is read after the lock (a statement of its own, so on PostgreSQL it
    sees every cap committed while we waited) and healed into the row when they differ:
    a row created in the same instant as a cap was set is not among the rows `set_cap`
    updated.

    `counting` is for a caller that will count a new report against the cap: if the row is
    new (so `set_cap` running right now cannot have seen it) the year's advisory lock is
    taken before the cap is read, so a cap being set or corrected at this instant is either
    read here or sees this row. `year_held` says the caller already holds that lock.

    `key` (scope, idempotency key): also look for that key's record in the same statement,
    after the lock: a duplicate delivery that waited for this lock behind the original then
    finds the original's record and answers as a replay, instead of failing on the
    record's primary key at the end and running again.
    """
    # Anything the ORM still holds for this transaction goes first (a no-op when clean).
    session.flush()
    conn = session.connection()
    row = conn.execute(_lock_statement(conn.dialect.name),
                       {"p_card_id": card_id, "p_year": year}).one()
    balance = LockedBalance(*row)
    if counting and not year_held and balance.entry_count == 0:
        hold_year(session, year)
    if key is None:
        cap = read_cap(conn, year)
    else:
        found = conn.execute(_CAP_AND_KEY, {"p_year": year, "p_scope": key[0],
                                            "p_key": key[1]}).one()
        cap = CapInForce(int(found[0]), bool(found[1])) if found[0] is not None else None
        if found[2] is not None:
            balance.stored_key = (found[2], found[3])
    if cap is not None and balance.cap_ore != cap.amount_ore:
        conn.execute(update(_BALANCES)
                     .where(_BALANCES.c.card_id == card_id, _BALANCES.c.year == year)
                     .values(cap_ore=cap.amount_ore))
        balance.cap_ore = cap.amount_ore
    balance.cap = cap
    return balance


CAP_LOCK_NAMESPACE = 0x46524B  # "FRK": first key of the two-key advisory lock per year


def hold_year(session: Session, year: int, *, exclusive: bool = False) -> None:
    """PostgreSQL only: a transaction-scoped advisory lock on a year's cap.

    `set_cap` takes it exclusively; a report that finds no cap for its year takes it shared
    before it looks again (and so does the first report of a card-year, see lock_balance).
    Without it, a report could read "no cap", the operator's set_cap could commit without
    seeing that report (not yet committed), and the report would then commit as awaiting a
    cap that is already set, where nothing would ever release it. On SQLite, BEGIN
    IMMEDIATE already serialises the two.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.connection().execute(text(f"SELECT {function}(:namespace, :year)"),
                                 {"namespace": CAP_LOCK_NAMESPACE, "year": year})


@dataclass(frozen=True)
class Movement:
    """How one entry moves the balance."""

    awaiting: int = 0
    pending: int = 0
    posted: int = 0
    over_cap: int = 0


class ReportRef:
    """What an entry needs to know about its report."""

    __slots__ = ("id", "card_id", "year")

    def __init__(self, id: int, card_id: int, year: int) -> None:  # noqa: A002
        self.id = id
        self.card_id = card_id
        self.year = year


_INSERT_ENTRY = _ENTRIES.insert()
_MOVE_BALANCE = (
    update(_BALANCES)
    .where(_BALANCES.c.card_id == bindparam("b_card_id", type_=BigInteger),
           _BALANCES.c.year == bindparam("b_year", type_=BigInteger))
    .values(
        awaiting_ore=_BALANCES.c.awaiting_ore + bindparam("d_awaiting", type_=BigInteger),
        pending_ore=_BALANCES.c.pending_ore + bindparam("d_pending", type_=BigInteger),
        posted_ore=_BALANCES.c.posted_ore + bindparam("d_posted", type_=BigInteger),
        over_cap_ore=_BALANCES.c.over_cap_ore + bindparam("d_over_cap", type_=BigInteger),
        entry_count=_BALANCES.c.entry_count + 1,
    )
)


# PostgreSQL: the entry and the balance movement in one statement (a data-modifying CTE).
_APPEND_ENTRY_PG = text(
    "WITH entry AS ("
    " INSERT INTO ledger_entries (report_id, card_id, year, kind, counted_ore, over_cap_ore,"
    " awaiting_delta, pending_delta, posted_delta, over_cap_delta, reason, actor, created_at)"
    " VALUES (:report_id, :card_id, :year, :kind, :counted_ore, :over_cap_ore, :d_awaiting,"
    " :d_pending, :d_posted, :d_over_cap, :reason, :actor, :now)"
    ") UPDATE card_balances SET awaiting_ore = awaiting_ore + :d_awaiting,"
    " pending_ore = pending_ore + :d_pending, posted_ore = posted_ore + :d_posted,"
    " over_cap_ore = over_cap_ore + :d_over_cap, entry_count = entry_count + 1"
    " WHERE card_id = :card_id AND year = :year"
)


def append_entry(
    session: Session,
    balance: LockedBalance,
    report: ReportRef,
    kind: str,
    movement: Movement,
    *,
    counted: int = 0,
    over_cap: int = 0,
    actor: str,
    now: dt.datetime,
    reason: str = "",
) -> None:
    """Writes one entry and moves the materialised balance by exactly the same amounts."""
    assert (report.card_id, report.year) == (balance.card_id, balance.year)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_APPEND_ENTRY_PG, {
            "report_id": report.id, "card_id": report.card_id, "year": report.year,
            "kind": kind, "counted_ore": counted, "over_cap_ore": over_cap,
            "d_awaiting": movement.awaiting, "d_pending": movement.pending,
            "d_posted": movement.posted, "d_over_cap": movement.over_cap,
            "reason": reason, "actor": actor, "now": now,
        })
        balance.move(movement)
        return
    conn.execute(_INSERT_ENTRY, {
        "report_id": report.id, "card_id": report.card_id, "year": report.year, "kind": kind,
        "counted_ore": counted, "over_cap_ore": over_cap,
        "awaiting_delta": movement.awaiting, "pending_delta": movement.pending,
        "posted_delta": movement.posted, "over_cap_delta": movement.over_cap,
        "reason": reason, "actor": actor, "created_at": now,
    })
    conn.execute(_MOVE_BALANCE, {
        "b_card_id": balance.card_id, "b_year": balance.year,
        "d_awaiting": movement.awaiting, "d_pending": movement.pending,
        "d_posted": movement.posted, "d_over_cap": movement.over_cap,
    })
    balance.move(movement)


def locked_balance_result(card_number: str, balance: LockedBalance) -> Balance:
    """The balance as a result, from a row held under its lock (no further query)."""
    return balance_result(card_number, balance.year, balance.cap, posted=balance.posted_ore,
                          pending=balance.pending_ore, over_cap=balance.over_cap_ore,
                          awaiting=balance.awaiting_ore)


def balance_result(card_number: str, year: int, cap: CapInForce | None, *, posted: int,
                   pending: int, over_cap: int, awaiting: int) -> Balance:
    """The balance as a result, from a card-year row's amounts and the cap in force."""
    return Balance(card_number=card_number, year=year,
                   cap_ore=cap.amount_ore if cap else None,
                   cap_is_demo=bool(cap and cap.is_demo), posted_ore=posted,
                   pending_ore=pending, over_cap_ore=over_cap, awaiting_cap_ore=awaiting)


_NEWEST_CAP_ID = (
    select(func.max(_CAPS.c.id)).where(_CAPS.c.year == bindparam("p_year", type_=Integer))
    .scalar_subquery()
)
_CAPS_NEWEST = _CAPS.alias("cap_in_force")


def _balance_query(by_number: bool) -> Select[Any]:
    """One SELECT: the card, its balance row for the year (if any) and the newest cap."""
    cards = _CARDS
    stmt = (
        select(cards.c.number, _BALANCES.c.posted_ore, _BALANCES.c.pending_ore,
               _BALANCES.c.over_cap_ore, _BALANCES.c.awaiting_ore,
               _CAPS_NEWEST.c.amount_ore, _CAPS_NEWEST.c.is_demo)
        .select_from(cards)
        .outerjoin(_BALANCES, (_BALANCES.c.card_id == cards.c.id)
                   & (_BALANCES.c.year == bindparam("p_year", type_=Integer)))
        .outerjoin(_CAPS_NEWEST, _CAPS_NEWEST.c.id == _NEWEST_CAP_ID)
    )
    if by_number:
        return stmt.where(cards.c.number == bindparam("p_number"))
    return stmt.where(cards.c.id == bindparam("p_card_id", type_=BigInteger))


_CARDS = table_of(Card)
_CITIZENS = table_of(Citizen)
_BALANCE_BY_NUMBER = _balance_query(True)
_BALANCE_BY_CARD_ID = _balance_query(False)
_CARD_YEAR = (
    _BALANCE_BY_NUMBER
    .add_columns(_CARDS.c.status, _CARDS.c.valid_from, _CARDS.c.issued_on,
                 _CARDS.c.municipality_code, _CARDS.c.last_control_on, _CITIZENS.c.name)
    .join(_CITIZENS, _CITIZENS.c.id == _CARDS.c.citizen_id)
)
"""The balance query with the card's own columns and its holder's name after the balance's:
a card holder's FAQ and SALDO read both, and this is one round trip instead of two."""


def read_balance(session: Session, year: int, *, number: str | None = None,
                 card_id: int | None = None) -> Balance | None:
    """A card's balance for a year in one round trip; None when the card does not exist."""
    conn = session.connection()
    if number is not None:
        row = conn.execute(_BALANCE_BY_NUMBER, {"p_number": number, "p_year": year}).first()
    else:
        row = conn.execute(_BALANCE_BY_CARD_ID, {"p_card_id": card_id, "p_year": year}).first()
    if row is None:
        return None
    return _balance_of(row, year)


def read_card_year(session: Session, number: str, year: int) -> tuple[Row[Any], Balance] | None:
    """A card's row and its balance for a year in one round trip; None when there is no card.

    Beside the balance's columns the row has the card's by name: status, valid_from,
    issued_on, municipality_code, last_control_on, and the holder's name.
    """
    row = session.connection().execute(_CARD_YEAR, {"p_number": number, "p_year": year}).first()
    if row is None:
        return None
    return row, _balance_of(row, year)


def _balance_of(row: Row[Any], year: int) -> Balance:
    """The balance from the first seven columns of a `_balance_query` row."""
    return Balance(
        card_number=row[0],
        year=year,
        cap_ore=int(row[5]) if row[5] is not None else None,
        cap_is_demo=bool(row[6]) if row[5] is not None else False,
        posted_ore=int(row[1] or 0),
        pending_ore=int(row[2] or 0),
        over_cap_ore=int(row[3] or 0),
        awaiting_cap_ore=int(row[4] or 0),
    )
