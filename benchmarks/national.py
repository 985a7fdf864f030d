"""National scale: generate 15.000 cards, 5.000 employers and three years of wage reports, then
time balance replies, card checks, exports and the console overview, at several scales.

    python -m benchmarks.national                      # scales 0.1 and 1.0, SQLite and PostgreSQL
    python -m benchmarks.national --scales 0.1,0.5,1.0 --backend postgres
    python -m benchmarks.national --quick              # scale 0.01, few samples (a smoke run)

Each cell starts from an empty database: PostgreSQL in the database named by
NATIONAL_POSTGRES_URL (default `frikort_national` on 127.0.0.1:5432), dropped and created
again for every scale and dropped at the end; SQLite in a temporary file. The generator
(`ledger.synthetic`) writes the data set, `Ledger.check_invariants()` must then find nothing,
and the operations in benchmarks/national_ops.py are timed. One table per database: each
operation at each scale with p50/p95/p99 and its growth from the smallest scale to the
largest. The load average is printed with every cell: on a shared machine the figures mean
little without it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from api.bootstrap import Backend
from benchmarks import national_ops as ops
from db.migrate import upgrade
from nlu import Parser
from sampledata import GenerationReport, generate, plan_for_scale

POSTGRES_URL = os.environ.get(
    "NATIONAL_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/frikort_national")
DEFAULT_COUNTS = ops.Counts()
PROTECTED_DATABASES = {"test", "postgres", "template0", "template1"}
"""Never dropped: `test` belongs to the test suite."""


def say(text: str = "") -> None:
    """The benchmark's output: tables on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def progress(text: str) -> None:
    """Where a long run is, on stderr (the tables stay clean on stdout)."""
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    sys.stderr.write(f"{dt.datetime.now():%H:%M:%S} [load {load}] {text}\n")
    sys.stderr.flush()


@dataclass
class ScaleResult:
    backend: str
    scale: float
    generation: GenerationReport
    invariants_ms: float
    violations: int
    ops: list[ops.OpResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


# Databases ---------------------------------------------------------------------------------

@contextmanager
def sqlite_database() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="national-bench-"))
    try:
        yield f"sqlite:///{folder / 'national.db'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_database(url: str = POSTGRES_URL) -> Iterator[str]:
    """A fresh, empty database of its own (dropped first if a failed run left it behind)."""
    target = make_url(url)
    name = target.database or ""
    if name in PROTECTED_DATABASES or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to drop and create database {name!r}")
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# One cell ----------------------------------------------------------------------------------

def run_scale(url: str, backend: str, scale: float, *, seed: int = 1,
              counts: ops.Counts = DEFAULT_COUNTS, parser: Parser | None = None,
              memory: bool = True) -> ScaleResult:
    """Migrates `url` (empty), generates the data set at `scale` and times the operations."""
    load_before = os.getloadavg()
    upgrade(url)
    settings = ops.settings_for(url)
    now = dt.datetime.now(dt.UTC)
    plan = plan_for_scale(scale, now=now, seed=seed)
    progress(f"{backend} {scale:g}: generating {plan.reports} reports")
    generation = generate(settings.ledger, plan)
    progress(f"{backend} {scale:g}: {generation.total_rows} rows in "
             f"{generation.seconds_planning + generation.seconds_writing:.0f} s")
    assert generation.samples is not None
    samples = generation.samples
    ledger = Backend(settings.ledger)
    try:
        started = time.perf_counter()
        violations = ledger.check_invariants()
        invariants_ms = (time.perf_counter() - started) * 1000
    finally:
        ledger.close()
    result = ScaleResult(backend, scale, generation, invariants_ms, len(violations),
                         load_before=load_before)
    rng = random.Random(seed)
    tag = f"{backend}-{scale:g}"
    year = plan.today.year - 1
    with ops.live_app(url, parser) as (app_ledger, dialogue, base_url):
        with httpx.Client(base_url=base_url, timeout=600) as http:
            progress(f"{backend} {scale:g}: bot and card checks")
            result.ops.append(ops.balance_replies(dialogue, samples, counts.balance, rng, tag))
            result.ops.append(ops.card_checks_bot(dialogue, samples, counts.card_check, rng, tag))
            result.ops.append(ops.card_checks_rest(http, samples, counts.card_check, rng))
            progress(f"{backend} {scale:g}: exports")
            result.ops.extend(ops.exports(http, samples, counts.export, rng, year))
            progress(f"{backend} {scale:g}: console overview")
            result.ops.extend(ops.overviews(base_url, app_ledger, samples, counts.overview, tag))
            result.ops.append(ops.expiry_sweeps(app_ledger, counts.sweep))
            if memory:
                result.notes.append(ops.export_memory(http, samples, year))
    result.load_after = os.getloadavg()
    return result


# Output ------------------------------------------------------------------------------------

def machine() -> str:
    cpu = "unknown CPU"
    memory_gb = 0.0
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = next(line.split(":", 1)[1].strip() for line in info.splitlines()
                   if line.startswith("model name"))
        meminfo = Path("/proc/meminfo").read_text().splitlines()[0]
        memory_gb = int(meminfo.split()[1]) / 1024 / 1024
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GB RAM, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
            f"load average {load}")


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.1f}" for x in values)


def print_generation(results: list[ScaleResult]) -> None:
    say("| scale | cards | employers | reports | entries | audit rows | all rows | plan s "
        "| write s | rows/s | client CPU s | invariants ms | violations | load before/after |")
    say("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        g, rows = r.generation, r.generation.rows
        say(f"| {r.scale:g} | {rows.get('cards', 0)} | {rows.get('employers', 0)} "
            f"| {rows.get('wage_reports', 0)} | {rows.get('ledger_entries', 0)} "
            f"| {rows.get('audit_log', 0)} | {g.total_rows} | {g.seconds_planning:.1f} "
            f"| {g.seconds_writing:.1f} | {g.total_rows / max(g.seconds_writing, 1e-9):,.0f} "
            f"| {g.cpu_seconds:.1f} | {r.invariants_ms:.0f} | {r.violations} "
            f"| {_load(r.load_before)} → {_load(r.load_after)} |")


def print_operations(results: list[ScaleResult]) -> None:
    say("| operation | scale | n | p50 ms | p95 ms | p99 ms | growth p50 | failures | notes |")
    say("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    names = [op.name for op in results[0].ops]
    for name in names:
        base: float | None = None
        for r in results:
            op = next((o for o in r.ops if o.name == name), None)
            if op is None:
                continue
            p50, p95, p99 = op.percentiles()
            base = p50 if base is None else base
            growth = p50 / base if base else float("nan")
            say(f"| {name} | {r.scale:g} | {len(op.samples_ms)} | {p50:.1f} | {p95:.1f} "
                f"| {p99:.1f} | {growth:.2f}× | {op.failures} | {op.note} |")
    for r in results:
        for note in r.notes:
            say(f"- scale {r.scale:g}: {note}")


def print_backend(name: str, results: list[ScaleResult]) -> None:
    say(f"\n### {name}\n")
    print_generation(results)
    say("")
    print_operations(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="0.1,1.0", help="comma-separated, e.g. 0.1,0.5,1.0")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=300,
                        help="balance replies and card checks per scale")
    parser.add_argument("--heavy-samples", type=int, default=30,
                        help="exports per scale (and a third of the overview samples)")
    parser.add_argument("--quick", action="store_true", help="scale 0.01, 20 samples")
    args = parser.parse_args(argv)
    scales = [0.01] if args.quick else [float(s) for s in args.scales.split(",")]
    samples = 20 if args.quick else args.samples
    heavy = 3 if args.quick else args.heavy_samples
    counts = ops.Counts(balance=samples, card_check=samples, export=heavy, overview=heavy * 3,
                        sweep=max(3, heavy // 6))
    say(f"## National-scale benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n")
    say(f"Machine: {machine()}\n")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        results: list[ScaleResult] = []
        try:
            for scale in scales:
                context = sqlite_database() if backend == "sqlite" else postgres_database()
                with context as url:
                    results.append(run_scale(url, backend, scale, seed=args.seed,
                                             counts=counts))
        finally:  # a failing cell still shows the ones before it
            if results:
                print_backend("SQLite" if backend == "sqlite" else "PostgreSQL", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
