"""Cards and identities: transfer, control, CPR at rest, CVR/phone validation, duplicates, audit.

On SQLite and on PostgreSQL; each scenario ends with `check_invariants() == []`
(the `env` fixture in conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from db.commands import Actor
from ledger import (
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
from tests.ledger.support import (
    ADMIN,
    TODAY,
    YESTERDAY,
    Env,
    audit_rows,
    dump_tables,
    fresh_cpr,
    raw_engine,
    refused,
    table_counts,
    unchanged,
    valid_cvr,
    wage,
)

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
