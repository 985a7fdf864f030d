"""The yearly cap table: reports waiting for a missing cap, cap changes, released reservations.

On SQLite and on PostgreSQL; each scenario ends with `check_invariants() == []`
(the `env` fixture in conftest.py).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ledger import AWAITING_CAP_REASON, PostReport, ReverseReport, SetCap, VoidReport
from tests.ledger.support import (
    ADMIN,
    CAP_2025,
    Env,
    dump_tables,
    refused,
    table_counts,
    to_2026,
    unchanged,
)

# Awaiting the cap ----------------------------------------------------------------------------



def test_reports_wait_for_a_missing_cap_and_are_counted_when_it_is_set(env: Env) -> None:
    to_2026(env)
    paid = dt.date(2026, 1, 30)
    direct = env.report(4_000_00, "direct", paid_on=paid, post=True)
    confirmed = env.report(3_000_00, "confirmed", paid_on=paid)
    plain = env.report(2_000_00, "plain", paid_on=paid)
    dropped = env.report(1_000_00, "dropped", paid_on=paid)
    last = env.report(2_000_00, "last", paid_on=paid, post=True)
    for result in (direct, confirmed, plain, dropped, last):
        assert result.status == "awaiting_cap"
        assert result.pending_reason == AWAITING_CAP_REASON
        assert (result.counted_ore, result.over_cap_ore) == (0, 0)
    assert direct.balance.cap_ore is None and direct.balance.remaining_ore is None
    balance = env.ledger.balance(env.card, 2026)
    assert (balance.awaiting_cap_ore, balance.posted_ore, balance.pending_ore) == (12_000_00, 0, 0)

    assert env.ledger.post_report(PostReport(report_id=confirmed.id),
                                  actor=ADMIN).status == "awaiting_cap"
    refused("report_not_pending", lambda: env.ledger.post_report(
        PostReport(report_id=confirmed.id), actor=ADMIN))  # confirmed once is enough
    assert env.ledger.void_report(VoidReport(report_id=dropped.id), actor=ADMIN).status == "voided"
    refused("report_not_posted", lambda: env.ledger.reverse_report(
        ReverseReport(report_id=direct.id, reason="x"), actor=ADMIN))

    cap = env.ledger.set_cap(SetCap(year=2026, amount_ore=8_000_00, source="operatør"), actor=ADMIN)
    assert cap.reports_released == 4
    after = {r.id: env.ledger.report(r.id) for r in (direct, confirmed, plain, dropped, last)}
    # Arrival order: 4.000 + 3.000 fit, the plain one gets 1.000 of its 2.000, the last nothing.
    assert (after[direct.id].status, after[direct.id].counted_ore) == ("posted", 4_000_00)
    assert (after[confirmed.id].status, after[confirmed.id].counted_ore) == ("posted", 3_000_00)
    assert (after[plain.id].status, after[plain.id].counted_ore,
            after[plain.id].over_cap_ore) == ("pending", 1_000_00, 1_000_00)
    assert after[dropped.id].status == "voided"
    assert (after[last.id].status, after[last.id].counted_ore,
            after[last.id].over_cap_ore) == ("posted", 0, 2_000_00)
    balance = env.ledger.balance(env.card, 2026)
    assert (balance.awaiting_cap_ore, balance.posted_ore, balance.pending_ore,
            balance.over_cap_ore) == (0, 7_000_00, 1_000_00, 2_000_00)
    # Setting it again with the same value releases nothing and changes nothing.
    before = dump_tables(env.url)
    again = env.ledger.set_cap(SetCap(year=2026, amount_ore=8_000_00, source="operatør"),
                               actor=ADMIN)
    assert again.reports_released == 0
    assert dump_tables(env.url) == before


def test_cap_cannot_drop_below_usage(env: Env) -> None:
    env.report(30_000_00, "k", post=True)
    env.report(5_000_00, "p")
    exc = unchanged(env, lambda: env.ledger.set_cap(
        SetCap(year=2025, amount_ore=34_999_99, source="forkert"), actor=ADMIN), "cap_below_usage")
    assert "35.000 kr." in exc.message
    raised = env.ledger.set_cap(SetCap(year=2025, amount_ore=50_000_00, source="rettet"),
                                actor=ADMIN)
    assert raised.amount_ore == 50_000_00
    balance = env.ledger.balance(env.card)
    assert (balance.cap_ore, balance.remaining_ore) == (50_000_00, 15_000_00)
    lowered = env.ledger.set_cap(SetCap(year=2025, amount_ore=35_000_00, source="rettet igen"),
                                 actor=ADMIN)
    assert lowered.amount_ore == 35_000_00
    assert env.report(1_00, "after", post=True).over_cap_ore == 1_00


def test_setting_a_cap_with_the_same_values_is_a_no_op(env: Env) -> None:
    env.ledger.set_cap(SetCap(year=2030, amount_ore=50_000_00, source="test"), actor=ADMIN)
    before = table_counts(env.url)
    env.ledger.set_cap(SetCap(year=2030, amount_ore=50_000_00, source="test"), actor=ADMIN)
    assert table_counts(env.url) == before
    assert [c.amount_ore for c in env.ledger.caps() if c.year == 2030] == [50_000_00]


def test_shipped_cap_table(env: Env) -> None:
    caps = {c.year: c.amount_ore for c in env.ledger.caps()}
    assert caps == {2019: 20_000_00, 2020: 20_000_00, 2021: 20_000_00, 2022: 20_000_00,
                    2023: 40_000_00, 2024: 41_280_00, 2025: CAP_2025}

def test_report_released_after_a_long_wait_gets_time_to_be_confirmed(env: Env) -> None:
    to_2026(env)
    waiting = env.report(2_000_00, "early-january", paid_on=dt.date(2026, 1, 30))
    env.clock.advance(days=20)  # the cap is published weeks later
    env.ledger.set_cap(SetCap(year=2026, amount_ore=45_000_00, source="operatør"), actor=ADMIN)
    assert env.ledger.report(waiting.id).status == "pending"
    env.clock.advance(hours=1)
    env.ledger.expire_due(actor=ADMIN)
    assert env.ledger.report(waiting.id).status == "pending"
    assert env.ledger.post_report(PostReport(report_id=waiting.id), actor=ADMIN).status == "posted"


def test_a_write_does_not_rescan_settled_reservations(env: Env) -> None:
    """Regression: with anything pending, each write re-read every past reservation of the card."""
    for n in range(25):
        reserved = env.report(10_00, f"old-{n}")
        env.ledger.post_report(PostReport(report_id=reserved.id), actor=ADMIN)
    env.report(10_00, "still-pending")
    env.clock.advance(seconds=env.ledger.config.pending_ttl_seconds // 2)
    env.report(10_00, "also-pending")  # its own expiry lies later than the first one's
    env.clock.advance(seconds=env.ledger.config.pending_ttl_seconds // 2 + 1)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        result = env.report(10_00, "new", paid_on=env.clock.now.date())
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
    assert result.status == "pending"
    balance = env.ledger.balance(env.card)
    assert balance.pending_ore == 20_00  # the first pending one expired, the other two remain
    assert len(statements) < 30, f"{len(statements)} statements for one report"
