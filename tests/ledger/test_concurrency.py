"""The headline test: many employers reporting for the same few cards at the same moment.

16 worker threads share one `Ledger` (one connection pool, as in the server) and deliver a
few hundred wage reports against 5 cards whose totals are 2–3× the cap, with 30 % duplicate
deliveries (half of them back to back, so two workers carry the same key at the same time)
and a mix of create-and-post and pending-then-post.

Pass criteria (exact): for every card-year the counted (posted) amount equals
min(cap, Σ distinct amounts) and posted + over-cap equals Σ distinct amounts; every
idempotency key maps to exactly one wage report and every delivery of it got an equal
answer; every accepted report is present exactly once; `check_invariants()` is empty.

A negative control runs the same load through a deliberately broken read-compute-write
path against the same table and must lose updates: proof that the load can catch a race.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import queue
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest
import sqlalchemy as sa

from api.bootstrap import Backend
from ledger import (
    CreateEmployment,
    PostReport,
    RegisterEmployer,
    SetCap,
    VerifyEmployer,
    WageReportResult,
)
from ledger import errors as E
from tests.ledger.support import (
    ADMIN,
    FakeClock,
    employer_with_card,
    fast_ledger,
    make_config,
    make_env,
    raw_engine,
    valid_cvr,
    wage,
)

R = TypeVar("R")

WORKERS = 16
CARDS = 5
REPORTS = int(os.environ.get("LEDGER_CONCURRENCY_REPORTS", "300"))
DUPLICATE_SHARE = 0.30
CAP = 42_766_00
PAID_ON = dt.date(2025, 6, 2)
TIME_LIMIT_S = 120


@dataclass(frozen=True)
class Delivery:
    key: str
    employer: str
    card: str
    amount: int
    post: bool


def build_load(
    seed: int, employers: list[str], cards: list[str]
) -> tuple[list[Delivery], dict[str, Delivery]]:
    """Distinct reports plus duplicates; half of the duplicates sit right next to the original."""
    rng = random.Random(seed)
    distinct: dict[str, Delivery] = {}
    # Amounts chosen so each card's total is 2–3× the cap.
    per_card = REPORTS // len(cards)
    for n in range(REPORTS):
        card = cards[n % len(cards)]
        mean = CAP * rng.uniform(2.0, 3.0) / per_card
        amount = max(1, int(rng.uniform(0.2, 1.8) * mean))
        key = f"r-{seed}-{n}"
        distinct[key] = Delivery(key, rng.choice(employers), card, amount, rng.random() < 0.5)
    deliveries = list(distinct.values())
    rng.shuffle(deliveries)
    with_twins: list[Delivery] = []
    later: list[Delivery] = []
    for delivery in deliveries:
        with_twins.append(delivery)
        if rng.random() < DUPLICATE_SHARE:
            if rng.random() < 0.5:
                with_twins.append(delivery)  # simultaneous: the next worker takes it at once
            else:
                later.extend([delivery] * rng.randint(1, 3))
    for extra in later:
        with_twins.insert(rng.randrange(len(with_twins) + 1), extra)
    return with_twins, distinct


class Retries(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage():
            self.count += 1


def setup_ledger(url: str) -> tuple[Backend, list[str], list[str]]:
    ledger = fast_ledger(url, FakeClock(), pool_size=WORKERS)
    first, cards = employer_with_card(ledger, seed=1, cards=CARDS)
    employers = [first]
    for seed in (2, 3):
        cvr = valid_cvr(seed)
        ledger.register_employer(RegisterEmployer(cvr=cvr, name=f"Firma {seed}"), actor=ADMIN)
        ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
        for card in cards:
            ledger.create_employment(CreateEmployment(
                employer_cvr=cvr, card_number=card, start_date=dt.date(2025, 1, 1),
                weekly_hours=5), actor=ADMIN)  # type: ignore[arg-type]  # pydantic takes an int for the Decimal
        employers.append(cvr)
    return ledger, employers, cards


def run_workers(
    deliveries: list[Delivery], work: Callable[[Delivery], R]
) -> tuple[list[tuple[Delivery, R]], list[BaseException]]:
    jobs: queue.Queue[Delivery] = queue.Queue()
    for delivery in deliveries:
        jobs.put(delivery)
    outcomes: list[tuple[Delivery, R]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)
    deadline = time.monotonic() + TIME_LIMIT_S

    def worker() -> None:
        start.wait()
        while time.monotonic() < deadline:
            try:
                delivery = jobs.get_nowait()
            except queue.Empty:
                return
            try:
                outcome = work(delivery)
            except BaseException as exc:  # noqa: BLE001  (every failure is reported)
                with lock:
                    failures.append(exc)
                continue
            with lock:
                outcomes.append((delivery, outcome))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIME_LIMIT_S + 30)
    assert jobs.empty(), "the load did not finish within the time limit"
    return outcomes, failures


def deliver(ledger: Backend, delivery: Delivery) -> tuple[WageReportResult, str]:
    """One delivery, as an employer's client would do it: report, then confirm if pending."""
    result = ledger.report_wage(
        wage(delivery.employer, delivery.card, delivery.amount, delivery.key, post=delivery.post,
             paid_on=PAID_ON), actor=ADMIN)
    post_outcome = "none"
    if not delivery.post:
        try:
            ledger.post_report(PostReport(report_id=result.id), actor=ADMIN)
            post_outcome = "posted"
        except E.ReportNotPending as exc:
            # The twin delivery confirmed it first; anything else is a failure.
            assert exc.params == {"status": "posted"}, exc.params
            post_outcome = "already"
    return result, post_outcome


SEEDS = [20251 + n for n in range(int(os.environ.get("LEDGER_CONCURRENCY_SEEDS", "1")))]


@pytest.mark.parametrize("seed", SEEDS)
def test_concurrent_reports_never_exceed_the_cap(db_url: str, seed: int) -> None:
    ledger, employers, cards = setup_ledger(db_url)
    retries = Retries()
    logging.getLogger("ledger.facade").addHandler(retries)
    logging.getLogger("ledger.facade").setLevel(logging.INFO)
    try:
        deliveries, distinct = build_load(seed, employers, cards)
        started = time.monotonic()
        outcomes, failures = run_workers(deliveries, lambda d: deliver(ledger, d))
        elapsed = time.monotonic() - started
        assert not failures, f"{len(failures)} deliveries failed, first: {failures[0]!r}"
        assert len(outcomes) == len(deliveries)
        verify(db_url, ledger, cards, distinct, outcomes)
        sys.stdout.write(f"\n[{db_url.split(':')[0]}] {len(deliveries)} deliveries of"
                         f" {len(distinct)} reports by {WORKERS} threads in {elapsed:.1f}s;"
                         f" {retries.count} retries\n")
    finally:
        logging.getLogger("ledger.facade").removeHandler(retries)
        ledger.close()


def verify(db_url: str, ledger: Backend, cards: list[str], distinct: dict[str, Delivery],
           outcomes: list[tuple[Delivery, tuple[WageReportResult, str]]]) -> None:
    """The exact pass criteria, on the answers the workers got and on the database."""
    # Exactly once: one original answer per key, every duplicate answered identically.
    by_key: dict[str, list[WageReportResult]] = defaultdict(list)
    confirmations: Counter[str] = Counter()
    for delivery, (result, posted) in outcomes:
        by_key[delivery.key].append(result)
        if posted == "posted":
            confirmations[delivery.key] += 1
    assert set(by_key) == set(distinct)
    for key, results in by_key.items():
        assert sum(not r.replayed for r in results) == 1, key
        first = results[0].model_copy(update={"replayed": False})
        assert all(r.model_copy(update={"replayed": False}) == first for r in results), key
        assert first.amount_ore == distinct[key].amount
    for key, delivery in distinct.items():
        assert confirmations[key] == (0 if delivery.post else 1), key

    # The database: one report and one idempotency record per key, nothing else.
    engine = raw_engine(db_url)
    with engine.connect() as conn:
        reports = conn.execute(sa.text(
            "SELECT r.id, r.amount_ore, c.number FROM wage_reports r"
            " JOIN cards c ON c.id = r.card_id")).all()
        records = conn.execute(sa.text("SELECT key, report_id FROM idempotency_records")).all()
        balances = {number: (posted, pending, over, awaiting) for number, posted, pending, over,
                    awaiting in conn.execute(sa.text(
                        "SELECT c.number, b.posted_ore, b.pending_ore, b.over_cap_ore,"
                        " b.awaiting_ore FROM card_balances b JOIN cards c ON c.id = b.card_id"
                        " WHERE b.year = 2025"))}
    engine.dispose()
    assert len(reports) == len(distinct)
    assert len(records) == len({key for key, _ in records}) == len(distinct)
    report_of_key = dict(records)
    assert {report_of_key[key] for key in distinct} == {r.id for r in reports}
    for key, results in by_key.items():
        assert results[0].id == report_of_key[key]

    # The cap, exactly: order does not matter under split semantics.
    for card in cards:
        total = sum(d.amount for d in distinct.values() if d.card == card)
        assert total >= 2 * CAP
        posted, pending, over, awaiting = balances[card]
        assert (posted, pending, awaiting) == (min(CAP, total), 0, 0), card
        assert posted + over == total, card
        balance = ledger.balance(card, 2025)
        assert balance.posted_ore == CAP and balance.remaining_ore == 0
        counted = sum(by_key[k][0].counted_ore for k, d in distinct.items() if d.card == card)
        assert counted == CAP, card  # what the employers were told adds up to the cap
    assert ledger.check_invariants() == []


def _process_worker(url: str, shard: list[Delivery]) -> list[tuple[Delivery, str, str]]:
    """One OS process with its own Backend and 4 threads: answers as JSON, for the parent."""
    ledger = Backend(make_config(url, pool_size=4), clock=FakeClock())
    jobs: queue.Queue[Delivery] = queue.Queue()
    for delivery in shard:
        jobs.put(delivery)
    answers: list[tuple[Delivery, str, str]] = []
    lock = threading.Lock()

    def work() -> None:
        while True:
            try:
                delivery = jobs.get_nowait()
            except queue.Empty:
                return
            result, posted = deliver(ledger, delivery)
            with lock:
                answers.append((delivery, result.model_dump_json(), posted))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIME_LIMIT_S)
    ledger.close()
    return answers


@pytest.mark.postgres
def test_concurrent_reports_from_several_processes(postgres_url: str) -> None:
    """The same load from 4 OS processes × 4 threads, each process its own Backend and pool.

    Deliveries are dealt round robin, so back-to-back duplicates land in different processes.
    """
    ledger, employers, cards = setup_ledger(postgres_url)
    try:
        deliveries, distinct = build_load(SEEDS[0] + 100, employers, cards)
        shards = [deliveries[n::4] for n in range(4)]
        # Forked, not spawned: each worker still opens its own Backend and pool after the fork,
        # and does not spend seconds importing the whole application again.
        context = multiprocessing.get_context("fork")
        started = time.monotonic()
        with context.Pool(4) as pool:
            parts = pool.starmap(_process_worker, [(postgres_url, shard) for shard in shards],
                                 chunksize=1)
        elapsed = time.monotonic() - started
        outcomes = [(delivery, (WageReportResult.model_validate_json(text), posted))
                    for part in parts for delivery, text, posted in part]
        assert len(outcomes) == len(deliveries)
        verify(postgres_url, ledger, cards, distinct, outcomes)
        sys.stdout.write(f"\n[postgresql, 4 processes] {len(deliveries)} deliveries of"
                         f" {len(distinct)} reports in {elapsed:.1f}s\n")
    finally:
        ledger.close()


# Negative control -------------------------------------------------------------------------

def broken_count(engine: sa.Engine, card_id: int, amount: int) -> int:
    """Read the balance WITHOUT a lock, compute in Python, write the new value back.

    This is Hermitage's lost update (P4): at READ COMMITTED on PostgreSQL, and on SQLite in
    autocommit (each statement its own transaction), a concurrent writer's update is lost.
    """
    with engine.connect() as conn:
        posted, cap = conn.execute(sa.text(
            "SELECT posted_ore, cap_ore FROM card_balances WHERE card_id = :c AND year = 2025"),
            {"c": card_id}).one()
        counted = min(amount, max(cap - posted, 0))
        time.sleep(0.0005)  # the window any real request has between its read and its write
        conn.execute(sa.text(
            "UPDATE card_balances SET posted_ore = :p WHERE card_id = :c AND year = 2025"),
            {"p": posted + counted, "c": card_id})
        conn.commit()
    return counted


def test_negative_control_unlocked_read_modify_write_loses_updates(db_url: str) -> None:
    """The same load through a broken path must break the cap promise in at least one try."""
    ledger, employers, cards = setup_ledger(db_url)
    try:
        # Create the balance rows through the real ledger, then leave them to the broken path.
        for card in cards:
            ledger.report_wage(wage(employers[0], card, 1, f"seed-{card}", post=True,
                                    paid_on=PAID_ON), actor=ADMIN)
    finally:
        ledger.close()
    if db_url.startswith("sqlite"):
        engine = sa.create_engine(db_url, connect_args={"timeout": 30, "check_same_thread": False},
                                  pool_size=WORKERS, isolation_level="AUTOCOMMIT")
    else:
        engine = sa.create_engine(db_url, pool_size=WORKERS, isolation_level="READ COMMITTED")
    try:
        with engine.connect() as conn:
            ids = dict(conn.execute(sa.text("SELECT number, id FROM cards")).all())
        violations = []
        for attempt in range(3):
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE card_balances SET posted_ore = 0"))
            deliveries, distinct = build_load(900 + attempt, employers, cards)
            once = list(distinct.values())  # no duplicates: every delivery is a new report
            outcomes, failures = run_workers(
                once, lambda d: broken_count(engine, ids[d.card], d.amount))
            assert not failures, repr(failures[0])
            told: Counter[str] = Counter()
            for delivery, counted in outcomes:
                told[delivery.card] += int(counted)
            with engine.connect() as conn:
                stored = {number: posted for number, posted in conn.execute(sa.text(
                    "SELECT c.number, b.posted_ore FROM card_balances b"
                    " JOIN cards c ON c.id = b.card_id"))}
            violations += [card for card in cards if told[card] > CAP or told[card] != stored[card]]
            if violations:
                break
        assert violations, "the unlocked path never lost an update: the load has no teeth"
    finally:
        engine.dispose()


# A report racing the operator who sets the year's cap ------------------------------------------

def test_report_racing_set_cap_is_not_left_waiting(db_url: str) -> None:
    """A report for a year without a cap, still in flight while the cap is set, gets counted.

    The reporter is paused (by an engine event, in the test only) right after it wrote its
    "awaiting the cap" entry and before it commits; the operator then sets the cap from
    another Backend. Whatever the interleaving, the report must not stay "awaiting_cap" with
    the cap loaded: nothing would ever release it (setting the same cap again is a no-op).
    """
    env = make_env(db_url)
    env.clock.now = dt.datetime(2026, 2, 2, 12, tzinfo=dt.UTC)
    operator = Backend(make_config(db_url), clock=env.clock)
    paused, go_on = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def pause(conn: object, cursor: object, statement: str, *_: object) -> None:
        reporting = threading.current_thread().name == "reporter"
        # PostgreSQL writes the entry inside frikort_count_report; SQLite as a statement.
        writes_entry = ("INSERT INTO ledger_entries" in statement
                        or "frikort_count_report" in statement)
        if reporting and writes_entry:
            paused.set()
            go_on.wait(15)

    def reporter() -> None:
        outcome["report"] = env.report(1_000_00, "racing", paid_on=dt.date(2026, 2, 1))

    def set_cap() -> None:
        outcome["cap"] = operator.set_cap(
            SetCap(year=2026, amount_ore=50_000_00, source="operatør"), actor=ADMIN)

    sa.event.listen(sa.engine.Engine, "after_cursor_execute", pause)
    try:
        first = threading.Thread(target=reporter, name="reporter")
        first.start()
        assert paused.wait(15), "the reporter never reached its ledger entry"
        second = threading.Thread(target=set_cap, name="operator")
        second.start()
        second.join(1.5)  # finishes at once on PostgreSQL, waits for the lock on SQLite
        go_on.set()
        first.join(30)
        second.join(30)
    finally:
        go_on.set()
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", pause)
    try:
        report = outcome["report"]
        assert isinstance(report, WageReportResult)
        now = env.ledger.report(report.id)
        assert now.status != "awaiting_cap", "stored as awaiting the cap after the cap was set"
        assert now.counted_ore == 1_000_00
        assert env.ledger.balance(env.card, 2026).awaiting_cap_ore == 0
        assert env.ledger.check_invariants() == []
    finally:
        operator.close()
        env.ledger.close()
