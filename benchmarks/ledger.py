"""Ledger throughput and balance-read latency, on SQLite and PostgreSQL.

    python -m benchmarks.ledger            # the full table (several minutes)
    python -m benchmarks.ledger --quick    # a smoke run (about a minute)
    python -m benchmarks.ledger --threads  # also the same cells with threads in one process

`benchmarks/ledger_batch.py` adds the batch path next to the single one. Prints, for each
backend, reports posted per second through the service layer
(`Ledger.report_wage(post=True)`) with 1, 8 and 32 concurrent writers, for one hot card,
100 cards and 10.000 cards. Writers are separate OS processes, each with its own `Ledger`
(as the server runs: several worker processes); `--threads` adds a column for the same load
from threads sharing one `Ledger` in one process, which the GIL caps at 1 / (Python CPU per
report). Then the cost of one command (statements and client CPU per report, one writer)
and `Ledger.balance` latency p50/p99 with 1.000.000 entries in the ledger.

Fixture rows (citizens, cards, employments; the million entries with their reports and
balance rows) are bulk-loaded with SQLAlchemy Core / COPY, since only the measured calls need
to go through the service. The cap for the year is set very high so no report is split to
zero. PostgreSQL runs in a schema of its own, dropped at the end; SQLite in a temporary
directory. Every loop is bounded in time. The load average is printed before and after each
table: on a shared machine the figures mean little without it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import multiprocessing
import os
import platform
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from api.bootstrap import Backend
from db.commands import Actor
from db.config import LedgerConfig
from db.migrate import upgrade
from db.tables import Card, CardBalance, CardEvent, Citizen, Employment
from ledger import PostReport, RegisterEmployer, ReportWage, SetCap, VerifyEmployer

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ACTOR = Actor(name="benchmark", channel="system")
CVR = "13585628"
YEAR = 2025
PAID_ON = dt.date(2025, 6, 2)
BIG_CAP = 10**13  # øre: no report is ever split to zero
NOW = dt.datetime(2025, 6, 16, 12, tzinfo=dt.UTC)


def say(text: str = "") -> None:
    """The benchmark's output: a table on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def fixed_clock() -> dt.datetime:
    return NOW


def config(url: str, pool: int) -> LedgerConfig:
    return LedgerConfig(database_url=url, cpr_encryption_key=bytes(32), cpr_hash_key=b"bench",
                        pool_size=pool)


# Databases ---------------------------------------------------------------------------------

@contextmanager
def sqlite_database() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    try:
        yield f"sqlite:///{folder / 'bench.db'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_database() -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()  # no open connection may be inherited by the forked writer processes
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# Fixtures ----------------------------------------------------------------------------------

def prepare(url: str, cards: int) -> tuple[list[str], int]:
    """Migrates, registers the employer through the service, bulk-inserts `cards` card holders."""
    upgrade(url)
    ledger = Backend(config(url, 2), clock=fixed_clock)
    try:
        ledger.register_employer(RegisterEmployer(cvr=CVR, name="Bench ApS"), actor=ACTOR)
        ledger.verify_employer(VerifyEmployer(cvr=CVR), actor=ACTOR)
        ledger.set_cap(SetCap(year=YEAR, amount_ore=BIG_CAP, source="benchmark (not a real cap)"),
                       actor=ACTOR)
    finally:
        ledger.close()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            employer_id = conn.scalar(sa.text("SELECT id FROM employers WHERE cvr = :c"),
                                      {"c": CVR})
            conn.execute(sa.insert(Citizen), [
                {"id": i + 1, "name": f"Bench {i}",
                 "cpr_hash": hashlib.sha256(b"%d" % i).hexdigest(),
                 "cpr_encrypted": b"\0" * 40, "language": "da", "municipality_code": "751",
                 "created_at": NOW} for i in range(cards)])
            numbers = [str(10000 + i) for i in range(cards)]
            conn.execute(sa.insert(Card), [
                {"id": i + 1, "number": numbers[i], "citizen_id": i + 1, "status": "active",
                 "valid_from": dt.date(2025, 1, 1), "issued_on": dt.date(2025, 1, 1),
                 "municipality_code": "751", "last_control_on": None} for i in range(cards)])
            conn.execute(sa.insert(CardEvent), [
                {"card_id": i + 1, "kind": "issued", "effective_on": dt.date(2025, 1, 1),
                 "reason": "", "municipality_code": "751", "actor": "bench", "created_at": NOW}
                for i in range(cards)])
            conn.execute(sa.insert(Employment), [
                {"id": i + 1, "employer_id": employer_id, "card_id": i + 1,
                 "start_date": dt.date(2025, 1, 1), "end_date": None, "weekly_hours_centi": 500,
                 "contract_required": True, "created_at": NOW} for i in range(cards)])
            if engine.dialect.name == "postgresql":
                for table in ("citizens", "cards", "employments"):
                    conn.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {cards})"))
                conn.execute(sa.text("ANALYZE"))
        return numbers, int(employer_id)
    finally:
        engine.dispose()


# Throughput --------------------------------------------------------------------------------

@dataclass
class Throughput:
    writers: int
    reports: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.reports / self.seconds if self.seconds else 0.0


def measure_writes(ledger: Backend, numbers: list[str], writers: int, seconds: float,
                   tag: str) -> Throughput:
    """`writers` threads post reports on random cards until `seconds` have passed."""
    latencies: list[list[float]] = [[] for _ in range(writers)]
    errors = [0] * writers
    barrier = threading.Barrier(writers + 1)
    stop = threading.Event()

    def writer(index: int) -> None:
        rng = random.Random(index)
        barrier.wait()
        n = 0
        while not stop.is_set():
            n += 1
            cmd = ReportWage(employer_cvr=CVR, card_number=rng.choice(numbers), paid_on=PAID_ON,
                             hours=Decimal(1), amount_ore=rng.randint(1_00, 500_00),
                             idempotency_key=f"{tag}-{index}-{n}", post=True)
            started = time.perf_counter()
            try:
                ledger.report_wage(cmd, actor=ACTOR)
            except Exception:  # noqa: BLE001  (counted and shown; a benchmark must finish)
                errors[index] += 1
                continue
            latencies[index].append(time.perf_counter() - started)

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    elapsed = time.perf_counter() - started
    flat = sorted(x for per in latencies for x in per)
    return Throughput(writers, len(flat), elapsed, percentile(flat, 50) * 1000,
                      percentile(flat, 99) * 1000, sum(errors))


def _report(ledger: Backend, rng: random.Random, numbers: list[str], key: str) -> None:
    ledger.report_wage(ReportWage(employer_cvr=CVR, card_number=rng.choice(numbers),
                                  paid_on=PAID_ON, hours=Decimal(1),
                                  amount_ore=rng.randint(1_00, 500_00), idempotency_key=key,
                                  post=True), actor=ACTOR)


def _process_writer(url: str, numbers: list[str], index: int, tag: str, seconds: float,
                    ready: Any, start: Any, results: Any) -> None:
    """One writer process: its own Backend (one connection), posting until its time is up."""
    ledger = Backend(config(url, 1), clock=fixed_clock)
    rng = random.Random(index)
    latencies: list[float] = []
    errors = 0
    try:
        _report(ledger, rng, numbers, f"{tag}-{index}-warm")  # connect and warm the caches
        ready.wait()
        start.wait()
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            started = time.perf_counter()
            try:
                _report(ledger, rng, numbers, f"{tag}-{index}-{n}")
            except Exception:  # noqa: BLE001  (counted and shown; a benchmark must finish)
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
        finished = time.monotonic()
    finally:
        ledger.close()
    results.put((latencies, errors, finished - (deadline - seconds)))


def measure_processes(url: str, numbers: list[str], writers: int, seconds: float,
                      tag: str) -> Throughput:
    """`writers` processes post reports on random cards for `seconds` each, all at once."""
    context: Any = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    ready = context.Barrier(writers + 1)
    start = context.Event()
    results = context.Queue()
    processes = [context.Process(target=_process_writer, daemon=True,
                                 args=(url, numbers, i, tag, seconds, ready, start, results))
                 for i in range(writers)]
    for process in processes:
        process.start()
    ready.wait(timeout=300)
    start.set()
    parts = [results.get(timeout=seconds + 300) for _ in processes]
    for process in processes:
        process.join(60)
    flat = sorted(x for latencies, _, _ in parts for x in latencies)
    elapsed = max(took for _, _, took in parts)
    return Throughput(writers, len(flat), elapsed, percentile(flat, 50) * 1000,
                      percentile(flat, 99) * 1000, sum(errors for _, errors, _ in parts))


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


# Balance reads at a million entries ----------------------------------------------------------

def load_entries(url: str, numbers: list[str], employer_id: int, entries: int) -> None:
    """Bulk-loads `entries` posted reports (one post_direct entry each) and their balance rows."""
    cards = len(numbers)
    rng = random.Random(7)
    amounts = [rng.randint(1_00, 500_00) for _ in range(entries)]
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            base = int(conn.scalar(sa.text("SELECT coalesce(max(id), 0) FROM wage_reports")) or 0)
            if engine.dialect.name == "postgresql":
                _copy_postgres(conn, base, cards, employer_id, amounts)
            else:
                _insert_sqlite(conn, base, cards, employer_id, amounts)
            totals: dict[int, tuple[int, int]] = {}
            for i, amount in enumerate(amounts):
                card_id = i % cards + 1
                total, count = totals.get(card_id, (0, 0))
                totals[card_id] = (total + amount, count + 1)
            existing = {row[0]: row for row in conn.execute(sa.text(
                "SELECT card_id, posted_ore, entry_count FROM card_balances WHERE year = :y"),
                {"y": YEAR})}
            conn.execute(sa.delete(CardBalance).where(CardBalance.year == YEAR))
            conn.execute(sa.insert(CardBalance), [
                {"card_id": card_id, "year": YEAR, "cap_ore": BIG_CAP,
                 "posted_ore": total + (existing[card_id][1] if card_id in existing else 0),
                 "pending_ore": 0, "over_cap_ore": 0, "awaiting_ore": 0,
                 "entry_count": count + (existing[card_id][2] if card_id in existing else 0)}
                for card_id, (total, count) in totals.items()])
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()


def _copy_postgres(conn: sa.Connection, base: int, cards: int, employer_id: int,
                   amounts: list[int]) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    created = NOW.isoformat()
    with raw.cursor() as cur:
        reports = io.StringIO()
        for i, amount in enumerate(amounts):
            card_id = i % cards + 1
            reports.write(f"{base + i + 1}\t{employer_id}\t{card_id}\t{card_id}\t{YEAR}\t{PAID_ON}"
                          f"\t{PAID_ON}\t{PAID_ON}\t100\t{amount}\tt\t{created}\tapi\t\\N\tbench"
                          f"\t{created}\n")
        with cur.copy("COPY wage_reports (id, employer_id, card_id, employment_id, year, paid_on,"
                      " work_from, work_to, hours_centi, amount_ore, post_on_create, expires_at,"
                      " source_channel, source_message_id, actor, created_at) FROM STDIN") as copy:
            copy.write(reports.getvalue())
        del reports
        entries = io.StringIO()
        for i, amount in enumerate(amounts):
            card_id = i % cards + 1
            entries.write(f"{base + i + 1}\t{card_id}\t{YEAR}\tpost_direct\t{amount}\t0\t0\t0"
                          f"\t{amount}\t0\t\tbench\t{created}\n")
        with cur.copy("COPY ledger_entries (report_id, card_id, year, kind, counted_ore,"
                      " over_cap_ore, awaiting_delta, pending_delta, posted_delta, over_cap_delta,"
                      " reason, actor, created_at) FROM STDIN") as copy:
            copy.write(entries.getvalue())
        cur.execute("SELECT setval(pg_get_serial_sequence('wage_reports', 'id'), "
                    "(SELECT max(id) FROM wage_reports))")


def _insert_sqlite(conn: sa.Connection, base: int, cards: int, employer_id: int,
                   amounts: list[int]) -> None:
    created = NOW.replace(tzinfo=None).isoformat(sep=" ")
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.executemany(
        "INSERT INTO wage_reports (id, employer_id, card_id, employment_id, year, paid_on,"
        " work_from, work_to, hours_centi, amount_ore, post_on_create, expires_at,"
        " source_channel, source_message_id, actor, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 100, ?, 1, ?, 'api', NULL, 'bench', ?)",
        ((base + i + 1, employer_id, i % cards + 1, i % cards + 1, YEAR, str(PAID_ON),
          str(PAID_ON), str(PAID_ON), amount, created, created)
         for i, amount in enumerate(amounts)))
    raw.executemany(
        "INSERT INTO ledger_entries (report_id, card_id, year, kind, counted_ore, over_cap_ore,"
        " awaiting_delta, pending_delta, posted_delta, over_cap_delta, reason, actor, created_at)"
        " VALUES (?, ?, ?, 'post_direct', ?, 0, 0, 0, ?, 0, '', 'bench', ?)",
        ((base + i + 1, i % cards + 1, YEAR, amount, amount, created)
         for i, amount in enumerate(amounts)))


def measure_reads(
    ledger: Backend, numbers: list[str], reads: int, seconds: float
) -> tuple[int, float, float]:
    rng = random.Random(3)
    timings: list[float] = []
    deadline = time.monotonic() + seconds
    for _ in range(50):  # warm the pool and the caches
        ledger.balance(rng.choice(numbers), YEAR)
    while len(timings) < reads and time.monotonic() < deadline:
        number = rng.choice(numbers)
        started = time.perf_counter()
        ledger.balance(number, YEAR)
        timings.append(time.perf_counter() - started)
    timings.sort()
    return len(timings), percentile(timings, 50) * 1000, percentile(timings, 99) * 1000


# Driver ------------------------------------------------------------------------------------

def run_backend(name: str, args: argparse.Namespace, out: list[str]) -> None:
    database = sqlite_database if name == "sqlite" else postgres_database
    for cards in args.cards:
        with database() as url:
            numbers, _employer_id = prepare(url, cards)
            for writers in args.writers:
                tag = f"{name}-{cards}-{writers}"
                result = measure_processes(url, numbers, writers, args.seconds, tag)
                threads = ""
                if args.threads:
                    ledger = Backend(config(url, writers), clock=fixed_clock)
                    try:
                        by_threads = measure_writes(ledger, numbers, writers, args.seconds,
                                                    f"{tag}-t")
                    finally:
                        ledger.close()
                    threads = f" {by_threads.per_second:>9.0f} |"
                line = (f"| {name:10} | {cards:>6} | {writers:>3} | {result.reports:>6} |"
                        f" {result.per_second:>8.0f} | {result.p50_ms:>7.1f} |"
                        f" {result.p99_ms:>7.1f} | {result.errors:>3} |{threads}")
                out.append(line)
                say(line)
            ledger = Backend(config(url, 1), clock=fixed_clock)
            try:
                problems = ledger.check_invariants()
            finally:
                ledger.close()
            if problems:
                say(f"!! invariants broken on {name}/{cards}: {problems[:3]}")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all processes: the database server too,
    and anything else running), from /proc/stat; 0 where that does not exist."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure_costs(name: str, count: int) -> list[str]:
    """Statements and client CPU per command, one writer, 100 cards (load-independent view).

    CPU is `time.process_time()` of this process: Python, SQLAlchemy and the driver (and,
    on SQLite, the database engine itself, which runs in-process).
    """
    database = sqlite_database if name == "sqlite" else postgres_database
    lines: list[str] = []
    with database() as url:
        numbers, _ = prepare(url, 100)
        ledger = Backend(config(url, 2), clock=fixed_clock)
        statements: list[str] = []

        def counter(*_: object) -> None:
            statements.append("")

        rng = random.Random(5)
        pending: list[int] = []

        def report(i: int, post: bool) -> None:
            result = ledger.report_wage(ReportWage(
                employer_cvr=CVR, card_number=rng.choice(numbers), paid_on=PAID_ON,
                hours=Decimal(1), amount_ore=rng.randint(1_00, 500_00),
                idempotency_key=f"cost-{post}-{i}", post=post), actor=ACTOR)
            if not post:
                pending.append(result.id)

        try:
            for i in range(200):  # every card-year row exists, caches are warm
                report(-i - 1, True)
            for label, call in (
                ("report_wage(post=True)", lambda i: report(i, True)),
                ("report_wage(pending)", lambda i: report(i, False)),
                ("post_report", lambda i: ledger.post_report(PostReport(report_id=pending[i]),
                                                             actor=ACTOR)),
                ("balance", lambda i: ledger.balance(rng.choice(numbers), YEAR)),
            ):
                statements.clear()
                sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
                busy = machine_busy_seconds()
                cpu, wall = time.process_time(), time.perf_counter()
                try:
                    for i in range(count):
                        call(i)
                finally:
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    busy = machine_busy_seconds() - busy
                    sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)
                line = (f"| {name:10} | {label:24} | {len(statements) / count:>5.1f} |"
                        f" {cpu / count * 1000:>13.2f} | {busy / count * 1000:>14.2f} |"
                        f" {wall / count * 1000:>7.2f} |")
                lines.append(line)
                say(line)
        finally:
            ledger.close()
    return lines


def run_reads(name: str, args: argparse.Namespace, out: list[str]) -> None:
    database = sqlite_database if name == "sqlite" else postgres_database
    with database() as url:
        numbers, employer_id = prepare(url, args.read_cards)
        started = time.perf_counter()
        load_entries(url, numbers, employer_id, args.entries)
        loaded = time.perf_counter() - started
        ledger = Backend(config(url, 2), clock=fixed_clock)
        try:
            count, p50, p99 = measure_reads(ledger, numbers, args.reads, args.seconds * 4)
            problems = ledger.check_invariants() if args.check else []
        finally:
            ledger.close()
        line = (f"| {name:10} | {args.entries:>9,} | {args.read_cards:>6} | {count:>6} |"
                f" {p50:>6.2f} | {p99:>6.2f} | {loaded:>6.0f} s |")
        out.append(line)
        say(line)
        if problems:
            say(f"!! invariants broken after the bulk load: {problems[:3]}")


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
            memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    return (f"{platform.machine()}, {os.cpu_count()} cores{memory}, Python "
            f"{platform.python_version()}, load average {load[0]:.2f} {load[1]:.2f}"
            f" {load[2]:.2f} (1/5/15 min) at start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: short, small")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=None, help="per throughput cell")
    parser.add_argument("--entries", type=int, default=None, help="entries for the read test")
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--check", action="store_true",
                        help="also run check_invariants() after the bulk load")
    parser.add_argument("--threads", action="store_true",
                        help="also measure each cell with threads sharing one Backend")
    parser.add_argument("--skip-costs", action="store_true")
    parser.add_argument("--skip-batches", action="store_true")
    parser.add_argument("--only-batches", action="store_true", help="only the batch table")
    args = parser.parse_args(argv)
    if args.only_batches:
        args.skip_writes = args.skip_costs = args.skip_reads = True
    args.seconds = args.seconds or (1.5 if args.quick else 6.0)
    args.entries = args.entries or (50_000 if args.quick else 1_000_000)
    args.cards = [1, 100] if args.quick else [1, 100, 10_000]
    args.writers = [1, 8] if args.quick else [1, 8, 32]
    args.read_cards = 1_000 if args.quick else 10_000
    args.reads = 500 if args.quick else 5_000
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]

    say(f"Machine: {machine()}")
    writes: list[str] = []
    reads: list[str] = []
    if not args.skip_writes:
        say("\nReports posted per second (Ledger.report_wage, post=True; each writer an OS"
            " process with its own Backend)")
        header = "| backend    |  cards | wrt | posted | per sec  | p50 ms  | p99 ms  | err |"
        rule = "|------------|-------:|----:|-------:|---------:|--------:|--------:|----:|"
        if args.threads:
            header += " threads/s |"
            rule += "----------:|"
        say(header)
        say(rule)
        for backend in backends:
            run_backend(backend, args, writes)
        say(f"load average after: {load_average()}")
    if not args.skip_costs:
        say("\nCost per command (one writer, 100 cards; client CPU = this process,"
            " machine CPU = all processes incl. the database server)")
        say("| backend    | command                  | stmts | client CPU ms | machine CPU ms"
            " | wall ms |")
        say("|------------|--------------------------|------:|--------------:|---------------:"
            "|--------:|")
        for backend in backends:
            measure_costs(backend, 100 if args.quick else 500)
        say(f"load average after: {load_average()}")
    if not args.skip_batches:
        from benchmarks import ledger_batch  # it imports this module's helpers

        ledger_batch.main(args, backends)
        say(f"load average after: {load_average()}")
    if not args.skip_reads:
        say(f"\nBalance reads (Ledger.balance, random card) with {args.entries:,} entries")
        say("| backend    |   entries |  cards |  reads | p50 ms | p99 ms |   load   |")
        say("|------------|----------:|-------:|-------:|-------:|-------:|---------:|")
        for backend in backends:
            run_reads(backend, args, reads)
        say(f"load average after: {load_average()}")
    return 0


def load_average() -> str:
    one, five, fifteen = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"

if __name__ == "__main__":
    sys.exit(main())
