"""Model-based test: random command sequences against the ledger and a pure-Python model.

After every step the ledger must agree with the model on every card-year balance and every
report's status and split; balances equal the sum of their entries; posted + pending never
exceed the cap; Σ counted + Σ over-cap equals Σ amounts of the live reports; replays and
conflicting replays change nothing.

Runs on SQLite and on PostgreSQL (where a new report is counted by a server function, see
ledger/service/report_count.py). Budget: LEDGER_STATEFUL_EXAMPLES (default 60 on SQLite and 25
on PostgreSQL, 12 under the dev Hypothesis profile) examples of LEDGER_STATEFUL_STEPS (default
30) steps; raise both for a nightly run.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from api.bootstrap import Backend
from ledger import (
    CreateEmployment,
    DeactivateCard,
    IssueCard,
    PostReport,
    ReactivateCard,
    RegisterEmployer,
    ReverseReport,
    SetCap,
    VerifyEmployer,
    VoidReport,
)
from ledger import errors as E
from ledger.rules import split_against_cap
from tests import databases
from tests.ledger.support import ADMIN, FakeClock, fresh_cpr, make_config, valid_cvr, wage
from tests.profiles import examples

EXAMPLES = int(os.environ.get("LEDGER_STATEFUL_EXAMPLES", examples(60)))
STEPS = int(os.environ.get("LEDGER_STATEFUL_STEPS", "30"))
POSTGRES_EXAMPLES = int(os.environ.get("LEDGER_STATEFUL_EXAMPLES", examples(25)))
"""Fewer on PostgreSQL: each example makes a database of its own on the server."""
TTL = 3 * 24 * 3600
START = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
VALID_FROM = dt.date(2025, 1, 1)
MUNICIPALITY = "751"
SHIPPED_CAPS = {2025: 42_766_00}

amounts = st.one_of(
    st.integers(min_value=1, max_value=500_00),
    st.integers(min_value=5_000_00, max_value=20_000_00),
    st.integers(min_value=40_000_00, max_value=50_000_00),  # alone near or over the cap
)


@dataclass
class MReport:
    id: int
    key: str
    employer: int
    card: str
    year: int
    paid_on: dt.date
    amount: int
    post_on_create: bool
    expires_at: dt.datetime
    status: str
    counted: int = 0
    over: int = 0
    confirmed: bool = False


@dataclass
class MBalance:
    posted: int = 0
    pending: int = 0
    over_cap: int = 0
    awaiting: int = 0


@dataclass
class MCard:
    number: str
    events: list[tuple[str, dt.date]] = field(default_factory=list)  # decision order

    @property
    def status(self) -> str:
        return "deactivated" if self.events[-1][0] == "deactivated" else "active"

    def active_on(self, day: dt.date) -> bool:
        if day < VALID_FROM:
            return False
        status = "deactivated"
        for kind, effective_on in self.events:
            if effective_on <= day:
                status = "deactivated" if kind == "deactivated" else "active"
        return status == "active"


class LedgerMachine(RuleBasedStateMachine):
    """Commands go to the ledger and to the model; the two must always agree."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger: Backend | None = None

    # Setup ----------------------------------------------------------------------------------

    @initialize()
    def setup(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ledger-ex-"))
        self.url = self.new_database()
        self.clock = FakeClock(now=START)
        self.ledger = Backend(make_config(self.url, pending_ttl_seconds=TTL), clock=self.clock)
        self.raw = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        self.employers: list[str] = []
        for seed in (11, 12):
            cvr = valid_cvr(seed)
            self.ledger.register_employer(RegisterEmployer(cvr=cvr, name=f"E{seed}"), actor=ADMIN)
            self.ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
            self.employers.append(cvr)
        self.cards: list[MCard] = []
        self.reports: list[MReport] = []
        self.balances: dict[tuple[str, int], MBalance] = {}
        self.caps: dict[int, int] = dict(SHIPPED_CAPS)
        self.keys = 0
        self._originals: dict[str, tuple[object, object]] = {}
        self._issue()

    def new_database(self) -> str:
        """A copy of the migrated template (tests/databases.py): migrations run once, not 60
        times."""
        return databases.sqlite_copy(self.folder / "db")

    def teardown(self) -> None:
        if self.ledger is not None:
            self.ledger.close()
            self.raw.dispose()
            shutil.rmtree(self.folder, ignore_errors=True)
            databases.release(self.url)  # a PostgreSQL copy is dropped; a file URL is ignored

    # Model helpers ----------------------------------------------------------------------------

    @property
    def today(self) -> dt.date:
        return self.clock.now.date()

    def bal(self, card: str, year: int) -> MBalance:
        return self.balances.setdefault((card, year), MBalance())

    def model_expire(self, card: str, year: int) -> int:
        """What expire_due_for_balance does for one card-year."""
        balance = self.bal(card, year)
        count = 0
        for report in self.reports:
            if (report.card, report.year) == (card, year) and report.status == "pending" \
                    and report.expires_at <= self.clock.now:
                report.status = "expired"
                balance.pending -= report.counted
                count += 1
        return count

    def count(self, report: MReport, *, confirmed: bool) -> None:
        balance = self.bal(report.card, report.year)
        split = split_against_cap(report.amount, balance.posted + balance.pending,
                                  self.caps[report.year])
        report.counted, report.over = split.counted, split.over_cap
        if confirmed:
            report.status = "posted"
            balance.posted += split.counted
            balance.over_cap += split.over_cap
        else:
            report.status = "pending"
            balance.pending += split.counted

    def fingerprint(self) -> tuple[object, ...]:
        with self.raw.connect() as conn:
            counts = conn.execute(sa.text(
                "SELECT (SELECT count(*) FROM wage_reports), (SELECT count(*) FROM ledger_entries),"
                " (SELECT count(*) FROM idempotency_records), (SELECT count(*) FROM audit_log),"
                " (SELECT count(*) FROM card_events), (SELECT count(*) FROM cap_versions)")).one()
            balances = conn.execute(sa.text(
                "SELECT card_id, year, cap_ore, posted_ore, pending_ore, over_cap_ore,"
                " awaiting_ore, entry_count FROM card_balances ORDER BY card_id, year")).all()
        return tuple(counts), tuple(tuple(b) for b in balances)

    # Rules ------------------------------------------------------------------------------------

    def _issue(self) -> None:
        assert self.ledger is not None
        card = self.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name="Borger",
                                                municipality_code=MUNICIPALITY,
                                                valid_from=VALID_FROM), actor=ADMIN)
        for cvr in self.employers:
            self.ledger.create_employment(CreateEmployment(
                employer_cvr=cvr, card_number=card.number, start_date=VALID_FROM,
                weekly_hours=Decimal(5)), actor=ADMIN)
        self.cards.append(MCard(card.number, [("issued", VALID_FROM)]))

    @precondition(lambda self: len(self.cards) < 4)
    @rule()
    def issue_card(self) -> None:
        self._issue()

    @rule(i=st.integers(0, 3))
    def deactivate(self, i: int) -> None:
        card = self.cards[i % len(self.cards)]
        if card.status == "deactivated":
            with pytest.raises(E.CardStatusUnchanged):
                self.ledger.deactivate_card(DeactivateCard(number=card.number, reason="x"),
                                            actor=ADMIN)
            return
        result = self.ledger.deactivate_card(DeactivateCard(number=card.number, reason="x"),
                                             actor=ADMIN)
        card.events.append(("deactivated", self.today))
        assert result.status == "deactivated"

    @rule(i=st.integers(0, 3))
    def reactivate(self, i: int) -> None:
        card = self.cards[i % len(self.cards)]
        if card.status == "active":
            with pytest.raises(E.CardStatusUnchanged):
                self.ledger.reactivate_card(ReactivateCard(number=card.number, reason="x"),
                                            actor=ADMIN)
            return
        self.ledger.reactivate_card(ReactivateCard(number=card.number, reason="x"), actor=ADMIN)
        card.events.append(("reactivated", self.today))

    @rule(i=st.integers(0, 3), employer=st.integers(0, 1), amount=amounts,
          when=st.sampled_from(["2025", "2026", "today"]), post=st.booleans())
    def report(self, i: int, employer: int, amount: int, when: str, post: bool) -> None:
        card = self.cards[i % len(self.cards)]
        paid_on = {"2025": dt.date(2025, 12, 15), "2026": dt.date(2026, 1, 5),
                   "today": self.today}[when]
        self.keys += 1
        key = f"key-{self.keys}"
        cmd = wage(self.employers[employer], card.number, amount, key, post=post, paid_on=paid_on)
        if not card.active_on(paid_on):
            before = self.fingerprint()
            with pytest.raises(E.CardNotActive):
                self.ledger.report_wage(cmd, actor=ADMIN)
            assert self.fingerprint() == before
            return
        result = self.ledger.report_wage(cmd, actor=ADMIN)
        year = paid_on.year
        self.model_expire(card.number, year)
        report = MReport(id=result.id, key=key, employer=employer, card=card.number, year=year,
                         paid_on=paid_on, amount=amount, post_on_create=post,
                         expires_at=self.clock.now + dt.timedelta(seconds=TTL),
                         status="awaiting_cap")
        if self.caps.get(year) is None:
            self.bal(card.number, year).awaiting += amount
        else:
            self.count(report, confirmed=post)
        self.reports.append(report)
        assert (result.status, result.counted_ore, result.over_cap_ore, result.replayed) == (
            report.status, report.counted, report.over, False)
        self.originals[key] = (cmd, result)

    @property
    def originals(self) -> dict[str, tuple[object, object]]:
        return getattr(self, "_originals", {})

    @precondition(lambda self: bool(self.reports))
    @rule(j=st.integers(0, 10_000))
    def post(self, j: int) -> None:
        report = self.reports[j % len(self.reports)]
        if report.status in ("pending", "expired") or (report.status == "awaiting_cap"
                                                       and not report.confirmed):
            # The ledger sweeps the card-year first and keeps the sweep when it posts or
            # refuses an expired report; a post refused as not pending rolls it back.
            self.model_expire(report.card, report.year)
        if report.status == "expired":
            with pytest.raises(E.ReportExpired):
                self.ledger.post_report(PostReport(report_id=report.id), actor=ADMIN)
        elif report.status == "awaiting_cap" and not report.confirmed:
            result = self.ledger.post_report(PostReport(report_id=report.id), actor=ADMIN)
            report.confirmed = True
            assert result.status == "awaiting_cap"
        elif report.status == "pending":
            result = self.ledger.post_report(PostReport(report_id=report.id), actor=ADMIN)
            balance = self.bal(report.card, report.year)
            balance.pending -= report.counted
            balance.posted += report.counted
            balance.over_cap += report.over
            report.status = "posted"
            assert (result.status, result.counted_ore) == ("posted", report.counted)
        else:
            with pytest.raises(E.ReportNotPending):
                self.ledger.post_report(PostReport(report_id=report.id), actor=ADMIN)

    @precondition(lambda self: bool(self.reports))
    @rule(j=st.integers(0, 10_000))
    def void(self, j: int) -> None:
        report = self.reports[j % len(self.reports)]
        balance = self.bal(report.card, report.year)
        if report.status in ("pending", "awaiting_cap"):
            result = self.ledger.void_report(VoidReport(report_id=report.id), actor=ADMIN)
            if report.status == "pending":
                balance.pending -= report.counted
            else:
                balance.awaiting -= report.amount
            report.status = "voided"
            assert result.status == "voided"
        else:
            with pytest.raises(E.ReportNotPending):
                self.ledger.void_report(VoidReport(report_id=report.id), actor=ADMIN)

    @precondition(lambda self: bool(self.reports))
    @rule(j=st.integers(0, 10_000))
    def reverse(self, j: int) -> None:
        report = self.reports[j % len(self.reports)]
        cmd = ReverseReport(report_id=report.id, reason="rettelse")
        if report.status == "reversed":
            with pytest.raises(E.ReportAlreadyReversed):
                self.ledger.reverse_report(cmd, actor=ADMIN)
        elif report.status != "posted":
            with pytest.raises(E.ReportNotPosted):
                self.ledger.reverse_report(cmd, actor=ADMIN)
        else:
            self.ledger.reverse_report(cmd, actor=ADMIN)
            balance = self.bal(report.card, report.year)
            balance.posted -= report.counted
            balance.over_cap -= report.over
            report.status = "reversed"

    @precondition(lambda self: bool(self.originals))
    @rule(j=st.integers(0, 10_000))
    def replay(self, j: int) -> None:
        keys = sorted(self.originals)
        cmd, original = self.originals[keys[j % len(keys)]]
        before = self.fingerprint()
        again = self.ledger.report_wage(cmd, actor=ADMIN)  # type: ignore[union-attr, arg-type]  # the init rule made the ledger; originals hold commands
        assert again.replayed is True
        assert again.model_copy(update={"replayed": False}) == original
        assert self.fingerprint() == before

    @precondition(lambda self: bool(self.originals))
    @rule(j=st.integers(0, 10_000), delta=st.integers(1, 1_000_00))
    def replay_with_another_payload(self, j: int, delta: int) -> None:
        keys = sorted(self.originals)
        cmd, _ = self.originals[keys[j % len(keys)]]
        changed = cmd.model_copy(update={"amount_ore": cmd.amount_ore % 40_000_00 + delta})  # type: ignore[attr-defined]  # originals hold ReportWage commands
        before = self.fingerprint()
        with pytest.raises(E.IdempotencyConflict):
            self.ledger.report_wage(changed, actor=ADMIN)
        assert self.fingerprint() == before

    @rule(hours=st.sampled_from([1, 24, TTL // 3600 + 1]))
    def advance_without_sweep(self, hours: int) -> None:
        """Time passes with no sweep: reports and posts must notice due reservations themselves."""
        self.clock.advance(hours=hours)

    @rule(hours=st.sampled_from([1, 24, TTL // 3600 + 1]))
    def advance_and_expire(self, hours: int) -> None:
        self.clock.advance(hours=hours)
        expected = 0
        for report in self.reports:
            if report.status == "pending" and report.expires_at <= self.clock.now:
                report.status = "expired"
                self.bal(report.card, report.year).pending -= report.counted
                expected += 1
        assert self.ledger.expire_due(actor=ADMIN) == expected

    @rule(year=st.sampled_from([2025, 2026]),
          amount=st.one_of(st.integers(1_000_00, 60_000_00), st.just(42_766_00)))
    def set_cap(self, year: int, amount: int) -> None:
        cmd = SetCap(year=year, amount_ore=amount, source="model")
        used = max((b.posted + b.pending for (_, y), b in self.balances.items() if y == year),
                   default=0)
        if used > amount:
            before = self.fingerprint()
            with pytest.raises(E.CapBelowUsage):
                self.ledger.set_cap(cmd, actor=ADMIN)
            assert self.fingerprint() == before
            return
        result = self.ledger.set_cap(cmd, actor=ADMIN)
        was_unset = self.caps.get(year) is None
        self.caps[year] = amount
        released = 0
        if was_unset:
            for report in self.reports:  # arrival order
                if report.year == year and report.status == "awaiting_cap":
                    self.bal(report.card, year).awaiting -= report.amount
                    self.count(report, confirmed=report.post_on_create or report.confirmed)
                    if report.status == "pending":
                        # Reserved now: the reservation gets its full time from the release.
                        report.expires_at = max(report.expires_at,
                                                self.clock.now + dt.timedelta(seconds=TTL))
                    released += 1
        assert result.reports_released == released

    # Invariants -------------------------------------------------------------------------------

    @invariant()
    def agrees_with_the_model(self) -> None:
        if self.ledger is None:
            return
        assert self.ledger.check_invariants() == []
        with self.raw.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT c.number, b.year, b.cap_ore, b.posted_ore, b.pending_ore, b.over_cap_ore,"
                " b.awaiting_ore FROM card_balances b JOIN cards c ON c.id = b.card_id")).all()
        actual = {(number, year): (posted, pending, over, awaiting)
                  for number, year, _, posted, pending, over, awaiting in rows}
        expected = {key: (b.posted, b.pending, b.over_cap, b.awaiting)
                    for key, b in self.balances.items()}
        for key in set(actual) | set(expected):
            assert actual.get(key, (0, 0, 0, 0)) == expected.get(key, (0, 0, 0, 0)), key
        for _number, year, cap, posted, pending, _, _ in rows:
            if self.caps.get(year) is not None:
                assert posted + pending <= self.caps[year] and cap == self.caps[year]
        # Every report: status and split as the model says (one export query per year).
        exported = {row.report_id: row for year in (2025, 2026)
                    for row in self.ledger.export_wage_reports(MUNICIPALITY, year)}
        assert set(exported) == {r.id for r in self.reports}
        live_amounts = 0
        for report in self.reports:
            row = exported[report.id]
            assert (row.status, row.counted_ore, row.over_cap_ore) == (
                report.status, report.counted, report.over), report
            if report.status not in ("voided", "expired", "reversed"):
                live_amounts += report.amount
        # Conservation: Σ counted + Σ over-cap (+ what awaits a cap) == Σ live amounts.
        counted = sum(p + q for p, q, _, _ in actual.values())
        over_posted = sum(o for _, _, o, _ in actual.values())
        awaiting = sum(a for _, _, _, a in actual.values())
        over_pending = sum(exported[r.id].over_cap_ore for r in self.reports
                           if r.status == "pending")
        assert counted + over_posted + over_pending + awaiting == live_amounts
        # The audit rows of every command are on one intact hash chain.
        assert self.ledger.verify_audit_chain().intact


def _budget(examples: int) -> settings:
    return settings(max_examples=examples, stateful_step_count=STEPS, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


LedgerMachine.TestCase.settings = _budget(EXAMPLES)
TestLedgerMachine = LedgerMachine.TestCase


class PostgresLedgerMachine(LedgerMachine):
    """The same machine on PostgreSQL, where a new report is counted by the server function
    `frikort_count_report` and the audit rows are chained by `frikort_audit_append`."""

    def new_database(self) -> str:
        return databases.postgres_copy()


PostgresLedgerMachine.TestCase.settings = _budget(POSTGRES_EXAMPLES)
TestPostgresLedgerMachine = PostgresLedgerMachine.TestCase
