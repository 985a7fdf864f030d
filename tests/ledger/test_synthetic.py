"""The national data generator at small scale, on SQLite and PostgreSQL: what it writes obeys
the ledger (invariants, caps, constraints), matches its plan, is the same for a seed, keeps
CPR numbers encrypted, and leaves a database the services go on working with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api.bootstrap import Backend
from db.base import Base
from db.commands import Actor
from db.reference_data import sourced_caps
from db.vault import CprVault, normalise_cpr
from ledger import ReportWage
from ledger.service.lookups import normalise_phone
from sampledata import DatabaseNotEmpty, GenerationReport, InvalidPlan, generate, plan_for_scale
from tests.ledger.support import FakeClock, make_config, prepare_database, raw_engine, table_counts

NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
"""2026 has no published cap: the generator must add a labelled demo cap for it."""
SCALE = 0.01  # 150 cards, 50 employers, 5.000 reports
ACTOR = Actor(name="test", channel="api")


def _generated(url: str, scale: float = SCALE, seed: int = 1) -> tuple[GenerationReport, Backend]:
    prepare_database(url)
    config = make_config(url)
    report = generate(config, plan_for_scale(scale, now=NOW, seed=seed))
    return report, Backend(config, clock=FakeClock(NOW))


def _rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def shared_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, GenerationReport]:
    """One generated SQLite database for the read-only checks (generating takes seconds)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('synthetic') / 'national.db'}"
    report, ledger = _generated(url)
    ledger.close()
    return url, report


def test_counts_match_the_plan_and_invariants_hold(db_url: str) -> None:
    report, ledger = _generated(db_url)
    try:
        assert ledger.check_invariants() == []
        plan = report.plan
        counts = table_counts(db_url)
        assert (counts["cards"], counts["citizens"]) == (plan.cards, plan.cards) == (150, 150)
        assert counts["employers"] == plan.employers == 50
        assert counts["wage_reports"] == plan.reports == 5000
        for table, written in report.rows.items():
            reference = len(sourced_caps()) if table == "cap_versions" else 0
            assert counts[table] == written + reference, table
        assert counts["ledger_entries"] > counts["wage_reports"]
        assert _rows(db_url, "SELECT COUNT(*) FROM audit_log WHERE action = 'wage_report.create'"
                     ) == [(plan.reports,)]
        # Nothing is due: every reservation still open was made within the TTL.
        assert ledger.expire_due(actor=ACTOR) == 0
    finally:
        ledger.close()


def test_the_services_carry_on_with_the_generated_data(db_url: str) -> None:
    """New ids follow the generated ones (PostgreSQL sequences moved), reports are counted
    against the generated balances, and pending ones expire when their time comes."""
    report, ledger = _generated(db_url, scale=0.004)
    try:
        assert report.samples is not None
        phone, number = report.samples.linked_holders[0]
        cvr = _rows(db_url, "SELECT e.cvr FROM employments m JOIN employers e"
                    " ON e.id = m.employer_id JOIN cards c ON c.id = m.card_id"
                    " WHERE c.number = :n AND m.end_date IS NULL", n=number)[0][0]
        before = ledger.balance(number)
        stored = _rows(db_url, "SELECT b.posted_ore FROM card_balances b JOIN cards c"
                       " ON c.id = b.card_id WHERE c.number = :n AND b.year = 2026", n=number)
        assert before.posted_ore == (stored[0][0] if stored else 0)
        result = ledger.report_wage(ReportWage(
            employer_cvr=cvr, card_number=number, paid_on=NOW.date() - dt.timedelta(days=1),
            hours=Decimal(2), amount_ore=300_00, idempotency_key="after-generation", post=True),
            actor=ACTOR)
        assert result.id == report.plan.reports + 1
        assert result.balance.posted_ore == before.posted_ore + result.counted_ore
        assert normalise_phone(phone) == phone
        clock = FakeClock(NOW + dt.timedelta(days=8))
        later = Backend(ledger.config, clock=clock)
        try:
            expired = later.expire_due(actor=ACTOR)
            pending = _rows(db_url, "SELECT COUNT(*) FROM card_balances WHERE pending_ore > 0")
            assert pending == [(0,)] and expired > 0
            assert later.check_invariants() == []
            # The generated audit rows and the services' own continue one hash chain.
            chain = later.verify_audit_chain()
            assert chain.intact and chain.rows > 1, chain
        finally:
            later.close()
    finally:
        ledger.close()


def test_refuses_a_database_that_holds_people(db_url: str) -> None:
    report, ledger = _generated(db_url, scale=0.002)
    ledger.close()
    before = table_counts(db_url)
    with pytest.raises(DatabaseNotEmpty) as raised:
        generate(make_config(db_url), plan_for_scale(0.002, now=NOW, seed=2))
    assert raised.value.code == "synthetic_database_not_empty"
    assert table_counts(db_url) == before
    assert report.rows["cards"] == before["cards"]


def test_caps_are_respected_with_some_near_and_over(shared_sqlite: tuple[str, Any]) -> None:
    url, _ = shared_sqlite
    rows = _rows(url, "SELECT year, cap_ore, posted_ore, pending_ore, over_cap_ore"
                      " FROM card_balances")
    caps = {cap.year: cap.amount_ore for cap in sourced_caps()}
    caps[2026] = caps[2025]  # the demo cap copies the newest published one
    assert {year for year, *_ in rows} == {2024, 2025, 2026}
    for year, cap, posted, pending, _ in rows:
        assert cap == caps[year] and posted + pending <= cap
    used = [(posted + pending) / cap for _, cap, posted, pending, _ in rows]
    assert sum(1 for share in used if 0.8 <= share < 0.95) >= 3
    assert sum(1 for share in used if share >= 0.95) >= 1
    assert sum(1 for *_, over in rows if over > 0) >= 1
    demo = _rows(url, "SELECT amount_ore, is_demo FROM cap_versions WHERE year = 2026")
    assert demo == [(caps[2025], 1)]


def test_reports_end_in_every_final_state(shared_sqlite: tuple[str, Any]) -> None:
    url, _ = shared_sqlite
    ledger = Backend(make_config(url), clock=FakeClock(NOW))
    try:
        statuses: dict[str, int] = {}
        codes = [code for code, in _rows(url, "SELECT DISTINCT municipality_code FROM cards")]
        for year in (2024, 2025, 2026):
            for code in codes:
                for row in ledger.export_wage_reports(code, year):
                    statuses[row.status] = statuses.get(row.status, 0) + 1
                    assert row.counted_ore + row.over_cap_ore == row.amount_ore
    finally:
        ledger.close()
    assert sum(statuses.values()) == 5000
    assert {"posted", "pending", "voided", "expired", "reversed"} == set(statuses)
    assert statuses["posted"] > 0.8 * 5000


def test_reports_fit_their_employment_card_and_employer(shared_sqlite: tuple[str, Any]) -> None:
    url, _ = shared_sqlite
    outside = _rows(url, "SELECT COUNT(*) FROM wage_reports r"
                         " JOIN employments m ON m.id = r.employment_id"
                         " JOIN employers e ON e.id = r.employer_id"
                         " JOIN cards c ON c.id = r.card_id"
                         " WHERE m.card_id != r.card_id OR m.employer_id != r.employer_id"
                         " OR m.start_date > r.work_from"
                         " OR (m.end_date IS NOT NULL AND m.end_date < r.work_to)"
                         " OR r.work_to > r.paid_on OR r.paid_on < c.valid_from"
                         " OR NOT e.verified OR e.verified_at > r.created_at"
                         " OR r.hours_centi > 1600 * (julianday(r.work_to)"
                         " - julianday(r.work_from) + 1)")
    assert outside == [(0,)]
    after_deactivation = _rows(url, "SELECT COUNT(*) FROM wage_reports r"
                                    " JOIN card_events v ON v.card_id = r.card_id"
                                    " AND v.kind = 'deactivated'"
                                    " WHERE r.paid_on >= v.effective_on")
    assert after_deactivation == [(0,)]


def test_cpr_numbers_are_valid_encrypted_and_found_by_hash(
        shared_sqlite: tuple[str, Any]) -> None:
    url, _ = shared_sqlite
    config = make_config(url)
    vault = CprVault(config.cpr_encryption_key, config.cpr_hash_key)
    rows = _rows(url, "SELECT cpr_encrypted, cpr_hash FROM citizens")
    cprs = [vault.decrypt(blob) for blob, _ in rows]
    assert len(set(cprs)) == len(cprs) == 150
    for cpr, (blob, lookup) in zip(cprs, rows, strict=True):
        assert normalise_cpr(cpr) == cpr
        assert cpr.encode() not in blob and lookup == vault.lookup_hash(cpr)


def _dump(url: str, vault: CprVault) -> dict[str, list[tuple[Any, ...]]]:
    """Every table; ciphertexts replaced by their plaintext (each encryption draws a nonce)."""
    engine = raw_engine(url)
    found: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with engine.connect() as conn:
            for name, table in Base.metadata.tables.items():
                rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns))
                found[name] = [tuple(vault.decrypt(v) if isinstance(v, bytes) else v
                                     for v in row) for row in rows]
    finally:
        engine.dispose()
    return found


def test_a_seed_gives_the_same_data(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / f'{n}.db'}" for n in range(3)]
    for url, seed in zip(urls, (7, 7, 8), strict=True):
        _, ledger = _generated(url, scale=0.002, seed=seed)
        ledger.close()
    config = make_config(urls[0])
    vault = CprVault(config.cpr_encryption_key, config.cpr_hash_key)
    first, again, other = (_dump(url, vault) for url in urls)
    assert first["wage_reports"] and first == again
    assert first["wage_reports"] != other["wage_reports"]


def test_a_plan_needs_a_scale_and_an_aware_clock() -> None:
    with pytest.raises(InvalidPlan):
        plan_for_scale(0, now=NOW)
    with pytest.raises(InvalidPlan):
        plan_for_scale(7, now=NOW)  # more cards than five-digit numbers allow
    with pytest.raises(InvalidPlan):
        plan_for_scale(0.1, now=NOW.replace(tzinfo=None))
    plan = plan_for_scale(1.0, now=NOW)
    assert (plan.cards, plan.employers, plan.reports, plan.years) == (
        15_000, 5_000, 500_000, (2024, 2025, 2026))


def test_usage_for_one_municipality_equals_its_share_of_the_national_figures(
        shared_sqlite: tuple[str, Any]) -> None:
    """The overview counts one municipality from its own cards (queries.usage_stats)."""
    from sqlalchemy.orm import Session

    from ledger.queries import usage_stats

    url, report = shared_sqlite
    engine = raw_engine(url)
    try:
        with Session(engine) as session:
            for year in (2024, 2025, 2026):
                national = usage_stats(session, year)
                assert sum(r.cards_used for r in national) > 0
                for code, _ in report.samples.municipalities[:5] + (("999", 0),):
                    assert usage_stats(session, year, code) == [
                        r for r in national if r.municipality_code == code]
    finally:
        engine.dispose()
