"""Helpers for outreach tests: run a sweep on the world's clock, read what it queued."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from ledger import ReportWage, SetCap
from outreach.rules import catalogue
from outreach.store.records import Outcome
from outreach.sweep import SweepReport, rules, run_sweep
from tests.ledger.casework_support import World
from tests.ledger.support import ADMIN, wage

_keys = itertools.count(1)
COFFEE_PHONE = "+4531425364"
STRANGER = "+4529998877"


def sweep(world: World, *, dry_run: bool = False) -> SweepReport:
    return run_sweep(world.ledger.outreach, at=world.clock.now, dry_run=dry_run)


def sent(world: World, rule: str | None = None) -> list[Outcome]:
    """The messages one sweep queues now (of `rule` only, if given)."""
    return [o for o in sweep(world).sent if rule is None or o.rule == rule]


def only(world: World, *names: str) -> None:
    """Switches every other rule off, so a test sees one rule (and the weekly limit is its)."""
    rules(world.ledger.outreach, write=True)
    for rule in catalogue():
        world.ledger.outreach.set_enabled(rule.name, rule.name in names, "test")


def rows(world: World, **where: Any) -> list[dict[str, Any]]:
    return world.rows("outreach_messages", **where)


def outbox_to(world: World, address: str) -> list[str]:
    return [r["text"] for r in world.rows("outbox") if r["recipient"] == address]


def set_cap(world: World, year: int, kroner: int) -> None:
    world.ledger.set_cap(SetCap(year=year, amount_ore=kroner * 100, source="test"), actor=ADMIN)


def post(world: World, card: str, kroner: int) -> None:
    world.ledger.report_wage(wage(world.cvr, card, kroner * 100, f"k{next(_keys)}", post=True,
                                  paid_on=world.clock.now.date()), actor=ADMIN)


def reserve(world: World, card: str, kroner: int) -> int:
    """A report read back to the employer and waiting for JA: reserved, not posted."""
    cmd: ReportWage = wage(world.cvr, card, kroner * 100, f"k{next(_keys)}",
                           paid_on=world.clock.now.date())
    return world.ledger.report_wage(cmd, actor=ADMIN).id


def set_state(world: World, channel: str, address: str, state: dict[str, Any]) -> None:
    """Puts a conversation where the bot would leave it (its last activity: now)."""
    def write(turn: Any) -> None:
        turn.state.clear()
        turn.state.update(state)
        turn.save_state()
    world.ledger.conversations.turn(channel, address, write)


def at_local(world: World, day: dt.date, hour: int, minute: int = 0) -> None:
    """Moves the world's clock to a Danish wall-clock time."""
    from zoneinfo import ZoneInfo

    world.clock.now = dt.datetime(day.year, day.month, day.day, hour, minute,
                                  tzinfo=ZoneInfo("Europe/Copenhagen")).astimezone(dt.UTC)
