"""Who may report, and what a report may say: card status, employer, amounts, hours, dates.

On SQLite and on PostgreSQL; each scenario ends with `check_invariants() == []`
(the `env` fixture in conftest.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ledger import (
    CreateEmployment,
    DeactivateCard,
    IssueCard,
    PostReport,
    ReactivateCard,
    RegisterEmployer,
    VerifyEmployer,
)
from ledger import errors as E
from tests.ledger.support import (
    ADMIN,
    CAP_2025,
    TODAY,
    TOMORROW,
    YESTERDAY,
    Env,
    fresh_cpr,
    make_env,
    refused,
    unchanged,
    valid_cvr,
    wage,
)

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
