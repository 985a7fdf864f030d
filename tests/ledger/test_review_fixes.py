"""Review fixes to the ledger rules, and guards for the cheaper write and read paths.

* A report released by `set_cap` after a long wait reserves from the release, not from its
  arrival: the reservation lives at least `pending_ttl_seconds` from when it was made.
* A deactivation dated in the future is refused (it takes effect from the decision, today).
* A control dated before the card's last control is refused.
* The balance-row lock (one INSERT ... ON CONFLICT DO UPDATE) really blocks a second writer
  on PostgreSQL; a report costs at most ten statements and a balance read one.
"""

from __future__ import annotations

import datetime as dt
import pytest
import sqlalchemy as sa

from ledger import DeactivateCard, PostReport, RecordControl, SetCap
from ledger.service.balances import _lock_statement
from tests.ledger.support import (
    ADMIN,
    TODAY,
    Env,
    dump_tables,
    make_env,
    raw_engine,
    refused,
    statements_run,
    to_2026,
)

# a. A reservation lives its full time from when it is made -----------------------------------

def test_released_reservation_expires_a_full_ttl_after_the_release(env: Env) -> None:
    ttl = dt.timedelta(seconds=env.ledger.config.pending_ttl_seconds)
    to_2026(env)
    waiting = env.report(2_000_00, "waits", paid_on=dt.date(2026, 1, 30))
    assert waiting.status == "awaiting_cap" and waiting.expires_at is None
    env.clock.advance(days=20)
    released_at = env.clock.now
    env.ledger.set_cap(SetCap(year=2026, amount_ore=45_000_00, source="operatør"), actor=ADMIN)
    shown = env.ledger.report(waiting.id)
    assert shown.status == "pending"
    assert shown.expires_at == released_at + ttl  # the later of arrival + TTL and release + TTL

    env.clock.now = released_at + ttl - dt.timedelta(seconds=1)
    assert env.ledger.expire_due(actor=ADMIN) == 0
    # A new report on the same card sweeps too, and must leave it alone as well.
    env.report(10_00, "other", paid_on=env.clock.now.date())
    assert env.ledger.report(waiting.id).status == "pending"
    assert env.ledger.balance(env.card, 2026).pending_ore == 2_000_00 + 10_00

    env.clock.now = released_at + ttl
    assert env.ledger.expire_due(actor=ADMIN) == 1
    assert env.ledger.report(waiting.id).status == "expired"
    refused("report_expired",
            lambda: env.ledger.post_report(PostReport(report_id=waiting.id), actor=ADMIN))


def test_post_report_honours_the_release_time_too(env: Env) -> None:
    """post_report decides "expired" by the same rule as the sweep."""
    ttl = dt.timedelta(seconds=env.ledger.config.pending_ttl_seconds)
    to_2026(env)
    waiting = env.report(2_000_00, "waits", paid_on=dt.date(2026, 1, 30))
    env.clock.advance(days=30)
    released_at = env.clock.now
    env.ledger.set_cap(SetCap(year=2026, amount_ore=45_000_00, source="operatør"), actor=ADMIN)
    env.clock.now = released_at + ttl - dt.timedelta(minutes=1)
    posted = env.ledger.post_report(PostReport(report_id=waiting.id), actor=ADMIN)
    assert posted.status == "posted" and posted.counted_ore == 2_000_00
    assert env.ledger.balance(env.card, 2026).posted_ore == 2_000_00


def test_a_report_that_arrived_with_the_cap_keeps_its_arrival_expiry(env: Env) -> None:
    ttl = dt.timedelta(seconds=env.ledger.config.pending_ttl_seconds)
    arrived = env.clock.now
    pending = env.report(100_00, "normal")
    assert pending.expires_at == arrived + ttl
    assert env.ledger.report(pending.id).expires_at == arrived + ttl
    env.clock.now = arrived + ttl
    assert env.ledger.expire_due(actor=ADMIN) == 1


# b. Deactivation takes effect from the decision date -----------------------------------------

def test_deactivation_in_the_future_is_refused_and_changes_nothing(env: Env) -> None:
    before = dump_tables(env.url)
    exc = refused("invalid_dates", lambda: env.ledger.deactivate_card(
        DeactivateCard(number=env.card, reason="flytter",
                       effective_on=TODAY + dt.timedelta(days=30)), actor=ADMIN))
    assert "i dag" in exc.message
    assert dump_tables(env.url) == before
    assert env.ledger.card(env.card).status == "active"


# c. A control may not be dated before the last one -------------------------------------------

def test_control_before_the_last_control_is_refused(env: Env) -> None:
    env.clock.now = dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC)
    env.ledger.record_control(RecordControl(number=env.card, controlled_on=dt.date(2027, 3, 1)),
                              actor=ADMIN)
    before = dump_tables(env.url)
    exc = refused("invalid_dates", lambda: env.ledger.record_control(
        RecordControl(number=env.card, controlled_on=dt.date(2026, 5, 1)), actor=ADMIN))
    assert "01.03.2027" in exc.message
    assert dump_tables(env.url) == before
    card = env.ledger.card(env.card)
    assert card.last_control_on == dt.date(2027, 3, 1)
    assert card.next_control_due == dt.date(2029, 12, 31)
    # The same day again, or a later one, is fine.
    again = env.ledger.record_control(
        RecordControl(number=env.card, controlled_on=dt.date(2027, 3, 1)), actor=ADMIN)
    assert again.last_control_on == dt.date(2027, 3, 1)
    later = env.ledger.record_control(RecordControl(number=env.card), actor=ADMIN)
    assert later.last_control_on == dt.date(2027, 3, 10)


# The cheaper paths -----------------------------------------------------------------------------

def test_a_report_takes_at_most_eleven_statements(env: Env) -> None:
    """Ten before the audit log became a hash chain, which reads the chain's end once. On
    PostgreSQL a new report is four round trips: the lookup, `frikort_count_report`, the
    idempotency record, and `frikort_audit_append` at commit (issue 17, item 3)."""
    most = 4 if env.url.startswith("postgresql") else 11
    env.report(100_00, "warm", post=True)  # the card-year's balance row exists from here
    posted, seen = statements_run(lambda: env.report(200_00, "direct", post=True))
    assert posted.status == "posted"
    assert len(seen) <= most, "\n".join(seen)
    pending, seen = statements_run(lambda: env.report(300_00, "pending"))
    assert pending.status == "pending"
    assert len(seen) <= most, "\n".join(seen)
    confirmed, seen = statements_run(
        lambda: env.ledger.post_report(PostReport(report_id=pending.id), actor=ADMIN))
    assert confirmed.status == "posted" and confirmed.counted_ore == 300_00
    assert len(seen) <= 11, "\n".join(seen)
    # The result built from values in hand equals what a fresh read gives.
    assert env.ledger.report(pending.id) == confirmed
    assert env.ledger.report(posted.id).model_copy(update={"balance": posted.balance}) == posted


def test_a_balance_read_is_one_select(env: Env) -> None:
    env.report(100_00, "one", post=True)
    balance, seen = statements_run(lambda: env.ledger.balance(env.card))
    assert balance.posted_ore == 100_00 and balance.cap_ore == 42_766_00
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, "\n".join(seen)
    unknown_year = env.ledger.balance(env.card, 2031)
    assert (unknown_year.cap_ore, unknown_year.cap_is_demo, unknown_year.posted_ore) == (
        None, False, 0)


@pytest.mark.postgres
def test_the_upsert_takes_the_row_lock_on_postgresql(postgres_url: str) -> None:
    env = make_env(postgres_url)
    try:
        env.report(100_00, "row", post=True)
        engine = raw_engine(postgres_url)
        card_id = None
        with engine.connect() as conn:
            card_id = conn.scalar(sa.text("SELECT id FROM cards WHERE number = :n"),
                                  {"n": env.card})
        lock = _lock_statement("postgresql")
        params = {"p_card_id": card_id, "p_year": 2025}
        with engine.connect() as holder, engine.connect() as other:
            holder.execute(lock, params).one()  # transaction open, lock held
            other.execute(sa.text("SET lock_timeout = '300ms'"))
            for blocked in (
                lambda: other.execute(lock, params),
                lambda: other.execute(sa.text(
                    "SELECT 1 FROM card_balances WHERE card_id = :c AND year = 2025 FOR UPDATE"),
                    {"c": card_id}),
            ):
                with pytest.raises(sa.exc.OperationalError) as info:
                    blocked()
                assert getattr(info.value.orig, "sqlstate", None) == "55P03"  # lock_not_available
                other.rollback()
                other.execute(sa.text("SET lock_timeout = '300ms'"))
            holder.rollback()
            row = other.execute(lock, params).one()  # free again
            assert row.posted_ore == 100_00
            other.rollback()
        engine.dispose()
    finally:
        env.ledger.close()
