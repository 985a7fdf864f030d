"""The batch path against the single path, in one run (`make bench-ledger`, issue 17 item 7).

Four ways to post the same kind of report (random card of 10.000, post=True, the cap so high
that nothing is split), each measured for rate, client CPU per report (this process) and
machine CPU per report (every process, the database server included, from /proc/stat):

* single: `Ledger.report_wage`, one report per transaction (what the SMS dialogue does);
* batch (ledger): `Ledger.report_wages`, 1.000 reports per call (what `frikort ledger import`
  does): each on the single path in a savepoint, one transaction per 250;
* batch (HTTP): `POST /api/v1/wage-reports/batch` with 1.000 reports, in-process ASGI (the
  app's JSON, validation, key check and result mapping included; no network);
* batch (ledger), 4 writer processes at once, over the same cards.

The machine is shared and noisy: read the ratios between rows of one run, not the rates alone.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from api.bootstrap import Backend
from benchmarks.ledger import (
    ACTOR,
    CVR,
    PAID_ON,
    config,
    fixed_clock,
    machine_busy_seconds,
    postgres_database,
    prepare,
    say,
    sqlite_database,
)
from db.errors import DomainError
from ledger import ReportWage

BATCH = 1000


@dataclass
class Cost:
    label: str
    reports: int
    wall: float
    client_cpu: float
    machine_cpu: float
    refused: int

    def line(self, name: str, base: float | None) -> str:
        rate = self.reports / self.wall if self.wall else 0.0
        ratio = f"{rate / base:>6.1f}×" if base else "    1×"
        return (f"| {name:10} | {self.label:30} | {self.reports:>6} | {rate:>8.0f} | {ratio} |"
                f" {self.client_cpu / self.reports * 1000:>7.3f} |"
                f" {self.machine_cpu / self.reports * 1000:>8.3f} | {self.refused:>3} |")


def _commands(rng: random.Random, numbers: list[str], tag: str, count: int) -> list[ReportWage]:
    return [ReportWage(employer_cvr=CVR, card_number=rng.choice(numbers), paid_on=PAID_ON,
                       hours=Decimal(1), amount_ore=rng.randint(1_00, 500_00),
                       idempotency_key=f"{tag}-{i}", post=True) for i in range(count)]


def _timed(label: str, count: int, work: Callable[[], int]) -> Cost:
    busy = machine_busy_seconds()
    cpu, wall = time.process_time(), time.perf_counter()
    refused = work()
    return Cost(label, count, time.perf_counter() - wall, time.process_time() - cpu,
                machine_busy_seconds() - busy, refused)


def _refused(outcomes: list[Any]) -> int:
    return sum(isinstance(o, DomainError) for o in outcomes)


def _http_body(cmds: list[ReportWage]) -> dict[str, Any]:
    return {"reports": [{"employer_cvr": c.employer_cvr, "card_number": c.card_number,
                         "paid_on": c.paid_on.isoformat(), "hours": "1",
                         "amount": f"{c.amount_ore // 100}.{c.amount_ore % 100:02d}",
                         "post": True, "idempotency_key": c.idempotency_key} for c in cmds]}


def _http_client(url: str, ledger: Backend) -> Any:
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from api.app import create_app
    from api.settings import Settings

    settings = Settings(_env_file=None, DATABASE_URL=url, ADMIN_API_KEY=SecretStr("bench-admin-key"),
                        RUN_BACKGROUND_WORKER=False, WARM_NLU_AT_START=False,
                        ALLOWED_HOSTS="testserver", LOG_LEVEL="WARNING")
    return TestClient(create_app(settings, ledger=ledger))


def _process_batches(url: str, numbers: list[str], index: int, batches: int, start: Any,
                     results: Any) -> None:
    ledger = Backend(config(url, 1), clock=fixed_clock)
    rng = random.Random(100 + index)
    try:
        ledger.report_wages(_commands(rng, numbers, f"par{index}-warm", 10), actor=ACTOR)
        work = [_commands(rng, numbers, f"par{index}-{b}", BATCH) for b in range(batches)]
        start.wait()
        refused = sum(_refused(ledger.report_wages(cmds, actor=ACTOR)) for cmds in work)
    finally:
        ledger.close()
    results.put(refused)


def _parallel(url: str, numbers: list[str], writers: int, batches: int) -> Cost:
    context: Any = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    start, results = context.Event(), context.Queue()
    processes = [context.Process(target=_process_batches, daemon=True,
                                 args=(url, numbers, i, batches, start, results))
                 for i in range(writers)]
    for process in processes:
        process.start()
    time.sleep(3)  # the writers connect and build their commands
    busy = machine_busy_seconds()
    wall = time.perf_counter()
    start.set()
    refused = sum(results.get(timeout=1800) for _ in processes)
    elapsed = time.perf_counter() - wall
    for process in processes:
        process.join(60)
    return Cost(f"batch (ledger), {writers} processes", writers * batches * BATCH, elapsed,
                float("nan"), machine_busy_seconds() - busy, refused)


def run_batches(name: str, args: argparse.Namespace) -> None:
    database = sqlite_database if name == "sqlite" else postgres_database
    count = 2 * BATCH if args.quick else 10 * BATCH
    with database() as url:
        numbers, _ = prepare(url, 1_000 if args.quick else 10_000)
        ledger = Backend(config(url, 2), clock=fixed_clock)
        rng = random.Random(7)
        try:
            ledger.report_wages(_commands(rng, numbers, "warm", 300), actor=ACTOR)
            single_cmds = _commands(rng, numbers, "single", count // 5)
            single = _timed("single (report_wage)", len(single_cmds), lambda: sum(
                _refused([ledger.report_wage(c, actor=ACTOR)]) for c in single_cmds))
            chunks = [_commands(rng, numbers, f"batch{b}", BATCH) for b in range(count // BATCH)]
            batch = _timed("batch (ledger, 1.000/call)", count, lambda: sum(
                _refused(ledger.report_wages(cmds, actor=ACTOR)) for cmds in chunks))
            client = _http_client(url, ledger)
            bodies = [_http_body(_commands(rng, numbers, f"http{b}", BATCH))
                      for b in range(count // BATCH)]
            headers = {"Authorization": "Bearer bench-admin-key"}

            def http() -> int:
                refused = 0
                for body in bodies:
                    response = client.post("/api/v1/wage-reports/batch", json=body,
                                           headers=headers)
                    assert response.status_code == 200, response.text[:300]
                    refused += sum(r["problem"] is not None for r in response.json()["results"])
                return refused
            over_http = _timed("batch (HTTP, 1.000/request)", count, http)
            problems = ledger.check_invariants()
        finally:
            ledger.close()
        parallel = _parallel(url, numbers, 4, max(1, count // BATCH // 4))
        base = single.reports / single.wall
        for cost in (single, batch, over_http, parallel):
            say(cost.line(name, None if cost is single else base))
        if problems:
            say(f"!! invariants broken on {name}: {problems[:3]}")


def main(args: argparse.Namespace, backends: list[str]) -> None:
    say(f"\nBatches against single reports ({'2.000' if args.quick else '10.000'} reports a"
        " row, random card, post=True; ratio = rate / the single path's rate in the same run)")
    say("| backend    | path                           | posted | per sec  |  ratio |"
        " CPU ms  | mach. ms | ref |")
    say("|------------|--------------------------------|-------:|---------:|-------:|"
        "--------:|---------:|----:|")
    for backend in backends:
        run_batches(backend, args)

