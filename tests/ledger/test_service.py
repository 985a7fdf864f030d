"""Every ledger rule of issue 2, through the service layer, on SQLite and on PostgreSQL.

Each scenario ends with `check_invariants() == []` (see the `env` fixture).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from ledger import (
    AWAITING_CAP_REASON,
    Actor,
    CreateEmployment,
    DeactivateCard,
    IssueCard,
    PostReport,
    ReactivateCard,
    RecordControl,
    RegisterEmployer,
    ReverseReport,
    SetCap,
    TransferCard,
    VerifyEmployer,
    VoidReport,
)
from ledger import errors as E
from ledger.errors import LedgerError
from tests.ledger.support import (
    ADMIN,
    TODAY,
    Env,
    audit_rows,
    dump_tables,
    fresh_cpr,
    make_env,
    raw_engine,
    table_counts,
    valid_cvr,
    wage,
)

CAP_2025 = 42_766_00
YESTERDAY = TODAY - dt.timedelta(days=1)
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    environment = make_env(db_url)
    yield environment
    try:
        assert environment.ledger.check_invariants() == []
    finally:
        environment.ledger.close()


def refused(code: str, call: Callable[[], Any]) -> LedgerError:
    """Runs `call`, expects the refusal with this stable code, and checks its Danish message."""
    with pytest.raises(LedgerError) as info:
        call()
    exc = info.value
    assert exc.code == code, f"expected {code}, got {exc.code} ({exc})"
    message = exc.message  # every placeholder filled, or this raises KeyError
    assert message and "{" not in message
    return exc


def unchanged(env: Env, call: Callable[[], Any], code: str) -> LedgerError:
    """A refusal must leave every table exactly as it was."""
    before = dump_tables(env.url)
    exc = refused(code, call)
    assert dump_tables(env.url) == before
    return exc


# Who may report -----------------------------------------------------------------------------

def test_deactivated_card_is_refused_from_the_decision_date(env: Env) -> None:
    env.ledger.deactivate_card(DeactivateCard(number=env.card, reason="kontrol"), actor=ADMIN)
    exc = unchanged(env, lambda: env.report(100_00, "k1"), "card_not_active")
    assert env.card in exc.message
    assert isinstance(exc, E.CardNotActive)


def test_payment_dated_before_deactivation_is_still_accepted(env: Env) -> None:
    env.ledger.deactivate_card(DeactivateCard(number=env.card, reason="kontrol"), actor=ADMIN)
    result = env.report(100_00, "k1", paid_on=YESTERDAY)
    assert result.status == "pending" and result.counted_ore == 100_00


def test_deactivation_cannot_be_backdated(env: Env) -> None:
    unchanged(env, lambda: env.ledger.deactivate_card(
        DeactivateCard(number=env.card, reason="x", effective_on=YESTERDAY), actor=ADMIN),
        "backdated_decision")
    assert env.ledger.card(env.card).status == "active"
    assert env.report(100_00, "k1").status == "pending"


def test_future_deactivation_is_refused(env: Env) -> None:
    """Review fix: deactivation takes effect from the decision date (today), never later."""
    exc = unchanged(env, lambda: env.ledger.deactivate_card(
        DeactivateCard(number=env.card, reason="flytter", effective_on=TOMORROW), actor=ADMIN),
        "invalid_dates")
    assert "i dag" in exc.message
    assert env.ledger.card(env.card).status == "active"
    assert env.report(100_00, "today").status == "pending"


def test_deactivation_dated_today_is_accepted(env: Env) -> None:
    result = env.ledger.deactivate_card(
        DeactivateCard(number=env.card, reason="kontrol", effective_on=TODAY), actor=ADMIN)
    assert result.status == "deactivated"
    refused("card_not_active", lambda: env.report(100_00, "k1"))


def test_deactivation_decided_before_valid_from_keeps_the_card_closed(db_url: str) -> None:
    """Regression: the "issued" event (dated valid_from) won over an earlier deactivation."""
    env = make_env(db_url)
    try:
        starts = TODAY + dt.timedelta(days=14)
        card = env.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name="Senere Start",
                                               municipality_code="101", valid_from=starts),
                                     actor=ADMIN).number
        env.ledger.create_employment(CreateEmployment(
            employer_cvr=env.cvr, card_number=card, start_date=starts, weekly_hours=Decimal(2)),
            actor=ADMIN)
        env.ledger.deactivate_card(DeactivateCard(number=card, reason="fortrudt"), actor=ADMIN)
        env.clock.advance(days=30)
        refused("card_not_active", lambda: env.report(100_00, "k", card=card,
                                                      paid_on=starts + dt.timedelta(days=5)))
        env.ledger.reactivate_card(ReactivateCard(number=card, reason="igen"), actor=ADMIN)
        assert env.report(100_00, "k2", card=card, paid_on=env.clock.now.date()).counted_ore
        assert env.ledger.check_invariants() == []
    finally:
        env.ledger.close()


def test_reactivation_and_unchanged_status(env: Env) -> None:
    refused("card_status_unchanged",
            lambda: env.ledger.reactivate_card(ReactivateCard(number=env.card, reason="x"),
                                               actor=ADMIN))
    env.ledger.deactivate_card(DeactivateCard(number=env.card, reason="x"), actor=ADMIN)
    exc = refused("card_status_unchanged", lambda: env.ledger.deactivate_card(
        DeactivateCard(number=env.card, reason="x"), actor=ADMIN))
    assert "deaktiveret" in exc.message
    result = env.ledger.reactivate_card(ReactivateCard(number=env.card, reason="igen"), actor=ADMIN)
    assert result.status == "active"
    assert env.report(100_00, "k1").status == "pending"


def test_card_not_yet_valid(env: Env) -> None:
    card = env.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name="Ny", municipality_code="751",
                                           valid_from=dt.date(2025, 6, 10)), actor=ADMIN).number
    env.ledger.create_employment(CreateEmployment(
        employer_cvr=env.cvr, card_number=card, start_date=dt.date(2025, 6, 1),
        weekly_hours=Decimal(2)), actor=ADMIN)
    exc = unchanged(env, lambda: env.report(100_00, "k", card=card, paid_on=dt.date(2025, 6, 9)),
                    "card_not_valid_on_date")
    assert "09.06.2025" in exc.message and "10.06.2025" in exc.message
    assert env.report(100_00, "k2", card=card, paid_on=dt.date(2025, 6, 10)).counted_ore == 100_00


def test_unverified_employer_is_refused(env: Env) -> None:
    cvr = valid_cvr(99)
    env.ledger.register_employer(RegisterEmployer(cvr=cvr, name="Ny ApS"), actor=ADMIN)
    env.ledger.create_employment(CreateEmployment(employer_cvr=cvr, card_number=env.card,
                                                  start_date=dt.date(2025, 1, 1),
                                                  weekly_hours=Decimal(2)), actor=ADMIN)
    unchanged(env, lambda: env.ledger.report_wage(wage(cvr, env.card, 100_00, "k"), actor=ADMIN),
              "employer_not_verified")
    env.ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    # The refused key was never stored: the same key now goes through.
    assert env.ledger.report_wage(wage(cvr, env.card, 100_00, "k"), actor=ADMIN).replayed is False


def test_no_employment_is_refused(env: Env) -> None:
    cvr = valid_cvr(77)
    env.ledger.register_employer(RegisterEmployer(cvr=cvr, name="Anden A/S"), actor=ADMIN)
    env.ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    exc = unchanged(env, lambda: env.ledger.report_wage(wage(cvr, env.card, 100_00, "k"),
                                                        actor=ADMIN), "no_employment")
    assert env.card in exc.message
    # An employment that ended before the work, or starts after it, does not cover it.
    env.ledger.create_employment(CreateEmployment(
        employer_cvr=cvr, card_number=env.card, start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 3, 31), weekly_hours=Decimal(2)), actor=ADMIN)
    env.ledger.create_employment(CreateEmployment(
        employer_cvr=cvr, card_number=env.card, start_date=TOMORROW, weekly_hours=Decimal(2)),
        actor=ADMIN)
    refused("no_employment", lambda: env.ledger.report_wage(wage(cvr, env.card, 100_00, "k"),
                                                            actor=ADMIN))
    ok = env.ledger.report_wage(wage(cvr, env.card, 100_00, "k", paid_on=dt.date(2025, 3, 31)),
                                actor=ADMIN)
    assert ok.status == "pending"


@pytest.mark.parametrize("amount", [0, -1, -100_00, 50_000_00 + 1, 10**12])
def test_amount_bounds(env: Env, amount: int) -> None:
    exc = unchanged(env, lambda: env.report(amount, "k"), "amount_out_of_bounds")
    assert "50.000 kr." in exc.message


def test_amount_at_the_sanity_bound_is_accepted(env: Env) -> None:
    result = env.report(50_000_00, "k", post=True)
    assert (result.counted_ore, result.over_cap_ore) == (CAP_2025, 50_000_00 - CAP_2025)


def test_sanity_bound_is_configurable(db_url: str) -> None:
    env = make_env(db_url, max_report_ore=1_000_00)
    try:
        exc = refused("amount_out_of_bounds", lambda: env.report(1_000_01, "k"))
        assert "1.000 kr." in exc.message
        assert env.report(1_000_00, "k2").counted_ore == 1_000_00
    finally:
        env.ledger.close()


@pytest.mark.parametrize(
    ("hours", "work_from", "work_to"),
    [("16.01", None, None), ("24", None, None), ("33", YESTERDAY, TODAY),
     ("120", TODAY - dt.timedelta(days=6), TODAY)],
)
def test_implausible_hours(env: Env, hours: str, work_from: dt.date | None,
                           work_to: dt.date | None) -> None:
    unchanged(env, lambda: env.report(100_00, "k", hours=hours, work_from=work_from,
                                      work_to=work_to), "hours_implausible")


def test_plausible_hours_over_a_period(env: Env) -> None:
    result = env.report(100_00, "k", hours="32", work_from=YESTERDAY, work_to=TODAY)
    assert result.hours == Decimal(32)


@pytest.mark.parametrize(
    ("paid_on", "work_from", "work_to"),
    [(TOMORROW, None, None), (TODAY, TOMORROW, None), (TODAY, TODAY, YESTERDAY)],
)
def test_invalid_dates(env: Env, paid_on: dt.date, work_from: dt.date | None,
                       work_to: dt.date | None) -> None:
    unchanged(env, lambda: env.report(100_00, "k", paid_on=paid_on, work_from=work_from,
                                      work_to=work_to), "invalid_dates")


def test_unknown_card_employer_report(env: Env) -> None:
    refused("card_not_found", lambda: env.report(100_00, "k", card="00000"))
    refused("employer_not_found",
            lambda: env.ledger.report_wage(wage(valid_cvr(5), env.card, 1, "k"), actor=ADMIN))
    refused("report_not_found", lambda: env.ledger.post_report(PostReport(report_id=999_999),
                                                               actor=ADMIN))
    refused("report_not_found", lambda: env.ledger.report(999_999))


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


# Awaiting the cap ----------------------------------------------------------------------------

def _to_2026(env: Env) -> None:
    env.clock.now = dt.datetime(2026, 2, 2, 12, tzinfo=dt.UTC)


def test_reports_wait_for_a_missing_cap_and_are_counted_when_it_is_set(env: Env) -> None:
    _to_2026(env)
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


# Cards: transfer, control, CPR ---------------------------------------------------------------

def test_transfer_keeps_history_and_ledger(env: Env) -> None:
    report = env.report(1_000_00, "k", post=True)
    before_events = table_counts(env.url)["card_events"]
    moved = env.ledger.transfer_card(TransferCard(number=env.card, municipality_code="101"),
                                     actor=ADMIN)
    assert moved.municipality_code == "101" and moved.status == "active"
    assert table_counts(env.url)["card_events"] == before_events + 1
    exported = list(env.ledger.export_wage_reports("101", 2025))
    assert [(r.report_id, r.amount_ore, r.counted_ore, r.status) for r in exported] == [
        (report.id, 1_000_00, 1_000_00, "posted")]
    assert list(env.ledger.export_wage_reports("751", 2025)) == []
    assert env.ledger.balance(env.card).posted_ore == 1_000_00
    refused("municipality_not_found", lambda: env.ledger.transfer_card(
        TransferCard(number=env.card, municipality_code="999"), actor=ADMIN))


def test_record_control_moves_next_control_due(env: Env) -> None:
    card = env.ledger.card(env.card)
    assert card.issued_on == TODAY and card.next_control_due == dt.date(2027, 12, 31)
    env.clock.now = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)
    controlled = env.ledger.record_control(RecordControl(number=env.card), actor=ADMIN)
    assert controlled.last_control_on == dt.date(2027, 3, 1)
    assert controlled.next_control_due == dt.date(2029, 12, 31)
    refused("invalid_dates", lambda: env.ledger.record_control(
        RecordControl(number=env.card, controlled_on=dt.date(2027, 3, 2)), actor=ADMIN))
    refused("invalid_dates", lambda: env.ledger.record_control(
        RecordControl(number=env.card, controlled_on=dt.date(2025, 6, 15)), actor=ADMIN))


def test_cpr_is_encrypted_at_rest_and_never_stored_in_clear(env: Env) -> None:
    cpr = "0707814321"
    card = env.ledger.issue_card(IssueCard(cpr="070781-4321", name="Hemmelig",
                                           municipality_code="751", valid_from=TODAY,
                                           phone="20 12 34 56"), actor=ADMIN)
    engine = raw_engine(env.url)
    try:
        with engine.connect() as conn:
            blobs = conn.execute(sa.text("SELECT cpr_encrypted, cpr_hash FROM citizens")).all()
    finally:
        engine.dispose()
    assert len(blobs) == 2
    for blob, lookup in blobs:
        raw = bytes(blob)
        assert cpr.encode() not in raw and b"070781" not in raw
        assert cpr not in lookup
    dump = dump_tables(env.url)
    text = repr(dump)
    for form in (cpr, "070781-4321", "0707814321"[:6] + "4321"):
        assert form not in text
    for rows in dump.values():
        for row in rows:
            for value in row:
                if isinstance(value, (bytes, memoryview)):
                    assert cpr.encode() not in bytes(value)
    # Same person again, in another spelling: refused, and the existing card is named.
    exc = refused("citizen_has_card", lambda: env.ledger.issue_card(
        IssueCard(cpr=cpr, name="Hemmelig", municipality_code="101", valid_from=TODAY),
        actor=ADMIN))
    assert card.number in exc.message
    assert cpr not in repr(exc) and cpr not in exc.message


@pytest.mark.parametrize("cpr", ["1234567890", "abc", "070781432", "07078143210", "3213814321",
                                 "0713814321", ""])
def test_invalid_cpr(env: Env, cpr: str) -> None:
    unchanged(env, lambda: env.ledger.issue_card(
        IssueCard(cpr=cpr, name="X", municipality_code="751", valid_from=TODAY), actor=ADMIN),
        "invalid_cpr")


@pytest.mark.parametrize("cvr", ["12345678", "1234567", "abcdefgh", "", "135856280"])
def test_invalid_cvr(env: Env, cvr: str) -> None:
    unchanged(env, lambda: env.ledger.register_employer(RegisterEmployer(cvr=cvr, name="X"),
                                                        actor=ADMIN), "invalid_cvr")


@pytest.mark.parametrize("phone", ["123", "+4512345678", "not a phone", "+45 2012 3456 7"])
def test_invalid_phone(env: Env, phone: str) -> None:
    unchanged(env, lambda: env.ledger.issue_card(
        IssueCard(cpr=fresh_cpr(), name="X", municipality_code="751", valid_from=TODAY,
                  phone=phone), actor=ADMIN), "invalid_phone")


def test_duplicates_of_employers_employments_contacts(env: Env) -> None:
    refused("employer_exists", lambda: env.ledger.register_employer(
        RegisterEmployer(cvr=env.cvr, name="Igen"), actor=ADMIN))
    refused("employment_exists", lambda: env.ledger.create_employment(CreateEmployment(
        employer_cvr=env.cvr, card_number=env.card, start_date=dt.date(2025, 1, 1),
        weekly_hours=Decimal(5)), actor=ADMIN))
    env.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name="A", municipality_code="751",
                                    valid_from=TODAY, phone="+4520123456"), actor=ADMIN)
    refused("contact_in_use", lambda: env.ledger.issue_card(
        IssueCard(cpr=fresh_cpr(), name="B", municipality_code="751", valid_from=TODAY,
                  phone="20123456"), actor=ADMIN))
    refused("invalid_dates", lambda: env.ledger.create_employment(CreateEmployment(
        employer_cvr=env.cvr, card_number=env.card, start_date=TODAY, end_date=YESTERDAY,
        weekly_hours=Decimal(5)), actor=ADMIN))


@pytest.mark.parametrize(("weekly", "required"), [("3", False), ("3.5", True), ("5", True)])
def test_employment_flags_the_contract_requirement(env: Env, weekly: str, required: bool) -> None:
    card = env.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name="C", municipality_code="751",
                                           valid_from=TODAY), actor=ADMIN).number
    result = env.ledger.create_employment(CreateEmployment(
        employer_cvr=env.cvr, card_number=card, start_date=TODAY, weekly_hours=Decimal(weekly)),
        actor=ADMIN)
    assert result.contract_required is required


# Audit ---------------------------------------------------------------------------------------

def test_every_change_is_audited_with_actor_and_channel(env: Env) -> None:
    sms = Actor(name="employer:+4520000001", channel="sms")
    tg = Actor(name="caseworker:42", channel="telegram")
    start = len(audit_rows(env.url))
    cvr = valid_cvr(55)
    env.ledger.register_employer(RegisterEmployer(cvr=cvr, name="Audit ApS"), actor=sms)
    env.ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=tg)
    env.ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=tg)  # no change, no row
    card = env.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name="D", municipality_code="751",
                                           valid_from=dt.date(2025, 1, 1)), actor=tg).number
    env.ledger.create_employment(CreateEmployment(employer_cvr=cvr, card_number=card,
                                                  start_date=dt.date(2025, 1, 1),
                                                  weekly_hours=Decimal(2)), actor=tg)
    a = env.ledger.report_wage(wage(cvr, card, 1_000_00, "a"), actor=sms)
    env.ledger.report_wage(wage(cvr, card, 1_000_00, "a"), actor=sms)  # replay: no row
    env.ledger.post_report(PostReport(report_id=a.id), actor=sms)
    b = env.ledger.report_wage(wage(cvr, card, 500_00, "b"), actor=sms)
    env.ledger.void_report(VoidReport(report_id=b.id, reason="fejl"), actor=sms)
    env.ledger.reverse_report(ReverseReport(report_id=a.id, reason="rettelse"), actor=tg)
    env.ledger.set_cap(SetCap(year=2031, amount_ore=1_00, source="test"), actor=tg)
    env.ledger.deactivate_card(DeactivateCard(number=card, reason="x"), actor=tg)
    env.ledger.reactivate_card(ReactivateCard(number=card, reason="y"), actor=tg)
    env.ledger.transfer_card(TransferCard(number=card, municipality_code="101"), actor=tg)
    env.ledger.record_control(RecordControl(number=card), actor=tg)
    refused("report_not_pending", lambda: env.ledger.post_report(PostReport(report_id=a.id),
                                                                 actor=sms))  # refusal: no row
    rows = audit_rows(env.url)[start:]
    got = [(r["action"], r["actor"], r["channel"]) for r in rows]
    assert got == [
        ("employer.register", sms.name, "sms"),
        ("employer.verify", tg.name, "telegram"),
        ("card.issue", tg.name, "telegram"),
        ("employment.create", tg.name, "telegram"),
        ("wage_report.create", sms.name, "sms"),
        ("wage_report.post", sms.name, "sms"),
        ("wage_report.create", sms.name, "sms"),
        ("wage_report.void", sms.name, "sms"),
        ("wage_report.reverse", tg.name, "telegram"),
        ("cap.set", tg.name, "telegram"),
        ("card.deactivated", tg.name, "telegram"),
        ("card.reactivated", tg.name, "telegram"),
        ("card.transfer", tg.name, "telegram"),
        ("card.control", tg.name, "telegram"),
    ]
    for row in rows:
        assert row["at"] is not None
        json.loads(str(row["details_json"]))


def test_report_released_after_a_long_wait_gets_time_to_be_confirmed(env: Env) -> None:
    _to_2026(env)
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
