"""The per card-year balance row: created on demand, locked by every writer, moved only by entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ledger.db.tables import CardBalance, LedgerEntry, WageReport
from ledger.results import Balance
from ledger.service.lookups import cap_in_force


def lock_balance(session: Session, card_id: int, year: int) -> CardBalance:
    """Takes the row lock that serialises all writers for one card and year.

    The row is created first with INSERT ... ON CONFLICT DO NOTHING so the very first
    report of a year also has something to lock. On SQLite the whole database is already
    locked by BEGIN IMMEDIATE, and FOR UPDATE is simply not emitted.
    """
    # Autoflush is off and the SELECT below uses populate_existing: without this flush, a
    # second lock of the same card-year in one transaction (release_awaiting does that for
    # every waiting report) would reload the row and silently drop the movements already
    # made to it, and split the next report against a stale balance.
    session.flush()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(CardBalance)
        .values(card_id=card_id, year=year, cap_ore=0, posted_ore=0, pending_ore=0,
                over_cap_ore=0, awaiting_ore=0, entry_count=0)
        .on_conflict_do_nothing(index_elements=["card_id", "year"])
    )
    balance = session.scalars(
        select(CardBalance)
        .where(CardBalance.card_id == card_id, CardBalance.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    cap = cap_in_force(session, year)
    # Self-heal a row created in the same instant as the cap was set (see set_cap).
    if cap is not None and balance.cap_ore != cap.amount_ore:
        balance.cap_ore = cap.amount_ore
    return balance


_CAP_LOCK_NAMESPACE = 0x46524B  # "FRK": first key of the two-key advisory lock per year


def hold_year(session: Session, year: int, *, exclusive: bool = False) -> None:
    """PostgreSQL only: a transaction-scoped advisory lock on a year's cap.

    `set_cap` takes it exclusively; a report that finds no cap for its year takes it shared
    and looks again. Without it, a report could read "no cap", the operator's set_cap could
    commit without seeing that report (not yet committed), and the report would then commit
    as awaiting a cap that is already set, where nothing would ever release it. On SQLite,
    BEGIN IMMEDIATE already serialises the two.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {function}(:namespace, :year)"),
                    {"namespace": _CAP_LOCK_NAMESPACE, "year": year})


@dataclass(frozen=True)
class Movement:
    """How one entry moves the balance."""

    awaiting: int = 0
    pending: int = 0
    posted: int = 0
    over_cap: int = 0


def append_entry(
    session: Session,
    balance: CardBalance,
    report: WageReport,
    kind: str,
    movement: Movement,
    *,
    counted: int = 0,
    over_cap: int = 0,
    actor: str,
    now: dt.datetime,
    reason: str = "",
) -> LedgerEntry:
    """Writes one entry and moves the materialised balance by exactly the same amounts."""
    entry = LedgerEntry(
        report_id=report.id, card_id=report.card_id, year=report.year, kind=kind,
        counted_ore=counted, over_cap_ore=over_cap,
        awaiting_delta=movement.awaiting, pending_delta=movement.pending,
        posted_delta=movement.posted, over_cap_delta=movement.over_cap,
        reason=reason, actor=actor, created_at=now,
    )
    session.add(entry)
    balance.awaiting_ore += movement.awaiting
    balance.pending_ore += movement.pending
    balance.posted_ore += movement.posted
    balance.over_cap_ore += movement.over_cap
    balance.entry_count += 1
    return entry


def balance_result(session: Session, card_number: str, row: CardBalance | None, year: int) -> Balance:
    cap = cap_in_force(session, year)
    return Balance(
        card_number=card_number,
        year=year,
        cap_ore=cap.amount_ore if cap else None,
        cap_is_demo=bool(cap and cap.is_demo),
        posted_ore=row.posted_ore if row else 0,
        pending_ore=row.pending_ore if row else 0,
        over_cap_ore=row.over_cap_ore if row else 0,
        awaiting_cap_ore=row.awaiting_ore if row else 0,
    )
