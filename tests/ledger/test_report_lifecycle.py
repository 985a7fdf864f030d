"""A report from arrival to posting: two-phase, the cap split and warnings, idempotency, reversal.

On SQLite and on PostgreSQL; each scenario ends with `check_invariants() == []`
(the `env` fixture in conftest.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ledger import (
    CreateEmployment,
    PostReport,
    RegisterEmployer,
    ReverseReport,
    SetCap,
    VerifyEmployer,
    VoidReport,
)
from ledger import errors as E
from tests.ledger.support import (
    ADMIN,
    CAP_2025,
    TODAY,
    YESTERDAY,
    Env,
    dump_tables,
    make_env,
    refused,
    table_counts,
    unchanged,
    valid_cvr,
    wage,
)

# Two-phase ----------------------------------------------------------------------------------

def test_pending_then_post(env: Env) -> None:
    pending = env.report(1_000_00, "k")
    assert pending.status == "pending" and pending.expires_at is not None
    assert (pending.balance.pending_ore, pending.balance.posted_ore) == (1_000_00, 0)
    posted = env.ledger.post_report(PostReport(report_id=pending.id), actor=ADMIN)
    assert posted.status == "posted" and posted.expires_at is None
    assert (posted.balance.pending_ore, posted.balance.posted_ore) == (0, 1_000_00)
    assert env.ledger.balance(env.card, 2025) == posted.balance
    refused("report_not_pending", lambda: env.ledger.post_report(PostReport(report_id=pending.id),
                                                                 actor=ADMIN))
    exc = refused("report_not_pending", lambda: env.ledger.void_report(
        VoidReport(report_id=pending.id), actor=ADMIN))
    assert "posted" in exc.message


def test_pending_then_void_frees_the_room(env: Env) -> None:
    pending = env.report(CAP_2025, "k")
    assert env.ledger.balance(env.card).remaining_ore == 0
    voided = env.ledger.void_report(VoidReport(report_id=pending.id, reason="fejl"), actor=ADMIN)
    assert voided.status == "voided"
    assert env.ledger.balance(env.card).remaining_ore == CAP_2025
    assert env.report(1_000_00, "k2").counted_ore == 1_000_00
    refused("report_not_pending", lambda: env.ledger.post_report(PostReport(report_id=pending.id),
                                                                 actor=ADMIN))


def test_pending_expires_and_frees_the_room(env: Env) -> None:
    pending = env.report(CAP_2025, "k")
    assert env.ledger.expire_due(actor=ADMIN) == 0  # not yet
    env.clock.advance(seconds=env.ledger.config.pending_ttl_seconds + 1)
    assert env.ledger.expire_due(actor=ADMIN) == 1
    assert env.ledger.expire_due(actor=ADMIN) == 0  # nothing left
    assert env.ledger.report(pending.id).status == "expired"
    assert env.ledger.balance(env.card).pending_ore == 0
    exc = refused("report_expired", lambda: env.ledger.post_report(
        PostReport(report_id=pending.id), actor=ADMIN))
    assert isinstance(exc, E.ReportExpired)
    assert env.report(5_000_00, "k2", post=True).counted_ore == 5_000_00


def test_a_pending_report_wholly_over_the_cap_still_expires(env: Env) -> None:
    """It reserves nothing, yet it is a pending report: found by the stateful test."""
    env.report(CAP_2025, "full", post=True)
    over = env.report(100_00, "over")
    assert (over.status, over.counted_ore) == ("pending", 0)
    env.clock.advance(seconds=env.ledger.config.pending_ttl_seconds + 1)
    assert env.ledger.expire_due(actor=ADMIN) == 1
    assert env.ledger.report(over.id).status == "expired"
    assert env.ledger.expire_due(actor=ADMIN) == 0


def test_a_refused_post_does_not_keep_the_sweep(env: Env) -> None:
    """Posting a report that is not pending changes nothing, not even other expiries."""
    done = env.report(100_00, "done", post=True)
    waiting = env.report(200_00, "waiting")
    env.clock.advance(seconds=env.ledger.config.pending_ttl_seconds + 1)
    refused("report_not_pending", lambda: env.ledger.post_report(
        PostReport(report_id=done.id), actor=ADMIN))
    assert env.ledger.report(waiting.id).status == "pending"
    assert env.ledger.balance(env.card).pending_ore == 200_00


def test_posting_after_expiry_records_the_expiry(env: Env) -> None:
    """Without a sweep in between, post sees the expiry itself, keeps it, and refuses."""
    pending = env.report(2_000_00, "k")
    env.clock.advance(seconds=env.ledger.config.pending_ttl_seconds)
    before = table_counts(env.url)["ledger_entries"]
    refused("report_expired", lambda: env.ledger.post_report(PostReport(report_id=pending.id),
                                                             actor=ADMIN))
    assert table_counts(env.url)["ledger_entries"] == before + 1
    assert env.ledger.report(pending.id).status == "expired"
    assert env.ledger.balance(env.card).pending_ore == 0
    refused("report_expired", lambda: env.ledger.post_report(PostReport(report_id=pending.id),
                                                             actor=ADMIN))


def test_a_new_report_sweeps_expired_reservations_of_its_card(env: Env) -> None:
    env.report(CAP_2025, "k")
    env.clock.advance(seconds=env.ledger.config.pending_ttl_seconds + 1)
    # Without any sweep, the next report of the card still finds the room free.
    assert env.report(1_000_00, "k2", paid_on=env.clock.now.date()).counted_ore == 1_000_00


def test_create_and_post_in_one_step(env: Env) -> None:
    result = env.report(2_500_00, "k", post=True)
    assert result.status == "posted" and result.expires_at is None
    assert (result.balance.posted_ore, result.balance.pending_ore) == (2_500_00, 0)
    refused("report_not_pending", lambda: env.ledger.post_report(PostReport(report_id=result.id),
                                                                 actor=ADMIN))


# The cap: split and warnings ---------------------------------------------------------------

def test_split_over_the_cap_with_warnings(env: Env) -> None:
    first = env.report(30_000_00, "a", post=True)
    assert first.warnings == () and first.over_cap_ore == 0
    second = env.report(5_000_00, "b", post=True)  # 35.000 = 81.8 %
    assert second.warnings == (80,)
    third = env.report(6_000_00, "c")  # pending counts too: 41.000 = 95.9 %
    assert third.warnings == (95,) and third.status == "pending"
    fourth = env.report(3_000_00, "d", post=True)  # 1.766 fits
    assert (fourth.counted_ore, fourth.over_cap_ore) == (1_766_00, 1_234_00)
    assert fourth.warnings == (100,)
    fifth = env.report(500_00, "e", post=True)
    assert (fifth.counted_ore, fifth.over_cap_ore, fifth.warnings) == (0, 500_00, ())
    assert fifth.status == "posted"
    posted_third = env.ledger.post_report(PostReport(report_id=third.id), actor=ADMIN)
    assert posted_third.counted_ore == 6_000_00
    balance = env.ledger.balance(env.card)
    assert (balance.posted_ore, balance.pending_ore) == (CAP_2025, 0)
    assert balance.over_cap_ore == 1_734_00
    assert balance.remaining_ore == 0


def test_one_report_crossing_every_threshold(env: Env) -> None:
    result = env.report(45_000_00, "k", post=True)
    assert result.warnings == (80, 95, 100)
    assert (result.counted_ore, result.over_cap_ore) == (CAP_2025, 45_000_00 - CAP_2025)


def test_over_cap_of_a_pending_report_counts_only_when_posted(env: Env) -> None:
    pending = env.report(45_000_00, "k")
    assert (pending.counted_ore, pending.over_cap_ore) == (CAP_2025, 2_234_00)
    assert pending.balance.over_cap_ore == 0
    posted = env.ledger.post_report(PostReport(report_id=pending.id), actor=ADMIN)
    assert posted.balance.over_cap_ore == 2_234_00


def test_caps_are_per_calendar_year_of_payment(env: Env) -> None:
    env.clock.now = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    env.ledger.set_cap(SetCap(year=2026, amount_ore=10_000_00, source="test"), actor=ADMIN)
    december = env.report(CAP_2025, "dec", paid_on=dt.date(2025, 12, 30), post=True)
    january = env.report(10_000_00, "jan", paid_on=dt.date(2026, 1, 2), post=True)
    assert december.balance.year == 2025 and december.counted_ore == CAP_2025
    assert january.balance.year == 2026 and january.counted_ore == 10_000_00


# Idempotency ---------------------------------------------------------------------------------

def test_replay_returns_the_original_and_changes_nothing(env: Env) -> None:
    first = env.report(1_234_56, "key-1", post=True, source_message_id="sms-1")
    before = dump_tables(env.url)
    again = env.report(1_234_56, "key-1", post=True, source_message_id="sms-2")
    assert again.replayed is True and first.replayed is False
    assert again.model_copy(update={"replayed": False}) == first
    assert dump_tables(env.url) == before


def test_replay_after_posting_returns_the_original_answer(env: Env) -> None:
    first = env.report(1_000_00, "key-1")
    env.ledger.post_report(PostReport(report_id=first.id), actor=ADMIN)
    again = env.report(1_000_00, "key-1")
    assert again.replayed and again.id == first.id and again.status == "pending"
    assert env.ledger.balance(env.card).posted_ore == 1_000_00


@pytest.mark.parametrize(
    "change",
    [{"amount_ore": 1_000_01}, {"post": True}, {"paid_on": YESTERDAY}, {"hours": "3"},
     {"paid_on": dt.date(2024, 12, 30)}, {"work_from": YESTERDAY, "work_to": TODAY}],
)
def test_same_key_different_payload_is_a_conflict(env: Env, change: dict[str, Any]) -> None:
    env.report(1_000_00, "key-1")
    kwargs: dict[str, Any] = {"amount_ore": 1_000_00, **change}
    amount = kwargs.pop("amount_ore")
    unchanged(env, lambda: env.report(amount, "key-1", **kwargs), "idempotency_conflict")


def test_same_key_for_another_card_is_a_conflict(db_url: str) -> None:
    env = make_env(db_url, cards=2)
    try:
        other = env.ledger.caps()  # noqa: F841  (touches the read path once)
        cards = [row for row in dump_tables(env.url)["cards"]]
        second = next(str(row[1]) for row in cards if str(row[1]) != env.card)
        env.report(1_000_00, "key-1")
        unchanged(env, lambda: env.report(1_000_00, "key-1", card=second), "idempotency_conflict")
    finally:
        env.ledger.close()


def test_keys_are_scoped_per_employer(env: Env) -> None:
    cvr = valid_cvr(31)
    env.ledger.register_employer(RegisterEmployer(cvr=cvr, name="B"), actor=ADMIN)
    env.ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    env.ledger.create_employment(CreateEmployment(employer_cvr=cvr, card_number=env.card,
                                                  start_date=dt.date(2025, 1, 1),
                                                  weekly_hours=Decimal(2)), actor=ADMIN)
    a = env.report(1_000_00, "same")
    b = env.ledger.report_wage(wage(cvr, env.card, 2_000_00, "same"), actor=ADMIN)
    assert a.id != b.id and not b.replayed
    assert env.ledger.balance(env.card).pending_ore == 3_000_00


# Reversal ----------------------------------------------------------------------------------

def test_reversal_frees_the_cap_once(env: Env) -> None:
    big = env.report(45_000_00, "big", post=True)
    refused("report_not_pending", lambda: env.ledger.void_report(VoidReport(report_id=big.id),
                                                                 actor=ADMIN))
    reversed_ = env.ledger.reverse_report(ReverseReport(report_id=big.id, reason="forkert kort"),
                                          actor=ADMIN)
    assert reversed_.status == "reversed"
    assert (reversed_.balance.posted_ore, reversed_.balance.over_cap_ore) == (0, 0)
    exc = refused("report_already_reversed", lambda: env.ledger.reverse_report(
        ReverseReport(report_id=big.id, reason="igen"), actor=ADMIN))
    assert isinstance(exc, E.ReportAlreadyReversed)
    assert env.report(CAP_2025, "again", post=True).counted_ore == CAP_2025
    # The original stays in the ledger, next to its reversal.
    entries = dump_tables(env.url)["ledger_entries"]
    kinds = sorted(str(row[4]) for row in entries if row[1] == big.id)
    assert kinds == ["post_direct", "reverse"]


def test_reversing_an_unposted_report_is_refused(env: Env) -> None:
    pending = env.report(1_000_00, "k")
    exc = refused("report_not_posted", lambda: env.ledger.reverse_report(
        ReverseReport(report_id=pending.id, reason="x"), actor=ADMIN))
    assert "pending" in exc.message
    env.ledger.void_report(VoidReport(report_id=pending.id), actor=ADMIN)
    refused("report_not_posted", lambda: env.ledger.reverse_report(
        ReverseReport(report_id=pending.id, reason="x"), actor=ADMIN))


def test_reversal_of_pending_then_posted_report(env: Env) -> None:
    pending = env.report(2_000_00, "k")
    env.ledger.post_report(PostReport(report_id=pending.id), actor=ADMIN)
    result = env.ledger.reverse_report(ReverseReport(report_id=pending.id, reason="x"), actor=ADMIN)
    assert result.status == "reversed" and result.balance.posted_ore == 0
