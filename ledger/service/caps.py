"""The yearly cap: set by an operator with its source; reports waiting for it are then counted."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from danish.money import format_danish_whole
from db.commands import Actor
from db.tables import CapVersion, CardBalance, LedgerEntry, WageReport
from db.unit_of_work import UnitOfWork
from ledger import rules
from ledger.commands import SetCap
from ledger.errors import CapBelowUsage
from ledger.results import CapResult
from ledger.service.balances import Movement, ReportRef, append_entry, hold_year, lock_balance
from ledger.service.lookups import cap_in_force
from ledger.service.report_state import report_state


def set_cap(cmd: SetCap, *, uow: UnitOfWork, actor: Actor) -> CapResult:
    """Sets (or corrects) a year's cap. It may never drop below what is already counted."""
    session = uow.session
    hold_year(session, cmd.year, exclusive=True)  # waits for reports that found no cap
    current = cap_in_force(session, cmd.year)
    unchanged = current is not None and (
        (current.amount_ore, current.source, current.is_demo)
        == (cmd.amount_ore, cmd.source, cmd.is_demo)
    )
    if unchanged:
        return CapResult(year=cmd.year, amount_ore=cmd.amount_ore, source=cmd.source,
                         is_demo=cmd.is_demo)
    rows = session.scalars(
        select(CardBalance).where(CardBalance.year == cmd.year).order_by(CardBalance.card_id)
        .with_for_update()
    ).all()
    used = max((row.posted_ore + row.pending_ore for row in rows), default=0)
    if used > cmd.amount_ore:
        raise CapBelowUsage(used=format_danish_whole(used))
    session.add(CapVersion(year=cmd.year, amount_ore=cmd.amount_ore, source=cmd.source,
                           is_demo=cmd.is_demo, actor=actor.name, created_at=uow.now))
    for row in rows:
        row.cap_ore = cmd.amount_ore
    session.flush()
    released = release_awaiting(uow, cmd.year, actor)
    uow.audit(actor, "cap.set", "cap", cmd.year, amount_ore=cmd.amount_ore, source=cmd.source,
              is_demo=cmd.is_demo, released=released)
    uow.commit()
    return CapResult(year=cmd.year, amount_ore=cmd.amount_ore, source=cmd.source,
                     is_demo=cmd.is_demo, reports_released=released)


def release_awaiting(uow: UnitOfWork, year: int, actor: Actor) -> int:
    """Counts, in arrival order, the reports that were stored while the cap was unknown."""
    cap = cap_in_force(uow.session, year)
    if cap is None:
        return 0
    settled = aliased(LedgerEntry)
    waiting = uow.session.execute(
        select(WageReport.id, WageReport.card_id, WageReport.amount_ore, WageReport.post_on_create)
        .join(LedgerEntry, (LedgerEntry.report_id == WageReport.id)
              & (LedgerEntry.kind == "await_cap"))
        .where(WageReport.year == year,
               ~exists().where(settled.report_id == WageReport.id,
                               settled.kind.in_(("reserve", "post_direct", "void"))))
        .order_by(WageReport.id)
    ).all()
    for report_id, card_id, amount_ore, post_on_create in waiting:
        balance = lock_balance(uow.session, card_id, year)
        confirmed = post_on_create or report_state(uow.session, report_id).confirmed
        split = rules.split_against_cap(amount_ore, balance.used_ore, cap.amount_ore)
        if confirmed:
            kind, movement = "post_direct", Movement(posted=split.counted, over_cap=split.over_cap)
        else:
            # Reserved now: the reservation gets its full time from here (see reports._DUE).
            kind, movement = "reserve", Movement(pending=split.counted)
        movement = Movement(awaiting=-amount_ore, pending=movement.pending,
                            posted=movement.posted, over_cap=movement.over_cap)
        append_entry(uow.session, balance, ReportRef(report_id, card_id, year), kind, movement,
                     counted=split.counted, over_cap=split.over_cap, actor=actor.name,
                     now=uow.now)
    return len(waiting)
