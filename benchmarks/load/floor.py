"""The floor: what this machine can do for one SMS turn, level by level.

    python -m benchmarks.load.floor                 # 2 workers, PostgreSQL, ~4 minutes
    python -m benchmarks.load.floor --quick         # a smoke run (the test's)

Why: the load harness says what our server does; it cannot say how much of that the machine
would cost any server. This runs the harness's own machinery (its senders, traffic mix, signed
Twilio forms, keep-alive client, closed loop, CPU monitor) against servers that do more and
more of the work one turn cannot skip (`floor_apps`): (a) a bare ASGI app with a fixed TwiML
reply, (b) + form parsing and the Twilio signature check, (c) + the inbound stored under its
unique key and the turn written under the conversation's row lock, in plain psycopg; and
(d) our real server (`frikort serve`) on the same traffic: the harness's cost phase, rule
questions and balances by SMS. Each level runs with the same uvicorn worker count on a fresh,
seeded PostgreSQL database, at every `--concurrency`, and reports msg/s and CPU ms per message
of the server, PostgreSQL's backends and the generator (all on the same two cores).

(d) runs first: its rate limit counts a sender's stored messages of the last minute, and (c)
stores into the same tables. The table is printed in level order.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psutil
import uvloop
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from api.settings import Settings
from benchmarks.load.drive import PhaseRecorder, PhaseResult, Target, closed_loop
from benchmarks.load.httpclient import HttpClient, TransportError
from benchmarks.load.options import ROOT
from benchmarks.load.providers import FakeProviders
from benchmarks.load.report import machine_description, publish
from benchmarks.load.resources import ResourceMonitor, load_average
from benchmarks.load.run import COST_CATEGORIES
from benchmarks.load.seed import Population, plan_population, seed_population
from benchmarks.load.server import (
    START_TIMEOUT_S,
    BenchServer,
    ServerOptions,
    free_port,
    postgres_backend_pids,
    postgres_version,
    wait_until_ready,
)
from benchmarks.load.targets import AppTarget
from benchmarks.load.traffic import Focus, Message, TrafficSource, load_mix
from benchmarks.load.wire import ProviderSecrets, Wire, twiml_texts
from nlu import NluConfig, load_parser

__all__ = ["FloorOptions", "FloorRow", "Level", "main", "parse_options", "render", "run"]

DEFAULT_URL = os.environ.get(
    "FLOOR_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/frikort_load_floor")
CORES = os.cpu_count() or 1
WARMUP_LIMIT_S = 120.0


@dataclass(frozen=True)
class Level:
    key: str
    title: str


LEVELS = (
    Level("bare", "(a) bare ASGI app, fixed TwiML reply"),
    Level("signed", "(b) + form parsing, Twilio signature, TwiML built"),
    Level("stored", "(c) + inbound stored, turn under the row lock (psycopg, 3 round trips)"),
    Level("ours", "(d) our server, `frikort serve` (FAQ and SALDO by SMS)"),
)
RUN_ORDER = ("ours", "stored", "signed", "bare")


@dataclass(frozen=True)
class FloorOptions:
    workers: int = 2
    senders: int = 2_000
    """Fewer than the harness's 10.000, so that the warm-up reaches every one of them."""
    concurrency: tuple[int, ...] = (2, 32)
    duration_s: float = 15.0
    warmup_s: float = 4.0
    levels: tuple[str, ...] = tuple(level.key for level in LEVELS)
    postgres_url: str = DEFAULT_URL
    nlu_cache_dir: Path = ROOT / "var" / "nlu-cache"
    seed_processes: int = 2
    rate_limit_per_minute: int = 20
    keep_database: bool = False
    markdown: Path | None = None
    quiet: bool = False


QUICK: dict[str, Any] = {"senders": 200, "concurrency": (2, 8), "duration_s": 2.0, "warmup_s": 1.0,
         "workers": 1, "seed_processes": 1}


@dataclass
class FloorRow:
    """One level at one concurrency: the harness's phase result and the whole machine's CPU."""

    level: Level
    phase: PhaseResult
    machine_cpu_s: float
    wall_s: float
    started: str
    load_before: str
    load_after: str

    def _per_message(self, cpu_s: float | None) -> float | None:
        return None if cpu_s is None or not self.phase.ok else cpu_s * 1000 / self.phase.ok

    def _from_pct(self, key: str) -> float | None:
        pct = self.phase.usage.get(key)
        return None if pct is None else pct / 100 * self.wall_s

    @property
    def server_ms(self) -> float | None:
        return self._per_message(self.phase.usage.get("server_cpu_s"))

    @property
    def db_ms(self) -> float | None:
        return self._per_message(self._from_pct("db_cpu_pct"))

    @property
    def generator_ms(self) -> float | None:
        return self._per_message(self._from_pct("generator_cpu_pct"))

    @property
    def machine_ms(self) -> float | None:
        return self._per_message(self.machine_cpu_s)


@dataclass
class FloorReport:
    rows: list[FloorRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(row.phase.error_count for row in self.rows)


def _machine_busy_s() -> float:
    """CPU seconds all cores spent on anything but idling, since boot."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


class FloorTarget:
    """The harness's SMS turns for a server that answers everything alike: 200 and a TwiML
    reply with a message count as answered (the real server is loaded by `AppTarget`)."""

    def __init__(self, source: TrafficSource, wire: Wire, client: HttpClient) -> None:
        self.source = source
        self._wire = wire
        self._client = client

    def next(self) -> Message | None:
        return self.source.next_message()

    async def send(self, item: object, scheduled: float, phase: PhaseRecorder) -> None:
        assert isinstance(item, Message)
        path, body, headers = self._wire.sms(item.conversation.sender.address, item.turn.text)
        try:
            response = await self._client.request("POST", path, body, headers)
        except TransportError as exc:
            self.source.abandon(item.conversation)
            phase.error(exc.kind, str(exc))
            return
        done = time.perf_counter()
        texts = twiml_texts(response.body) if response.status == 200 else None
        if not texts or not texts[0]:
            self.source.abandon(item.conversation)
            phase.error(f"http_{response.status}" if response.status != 200 else "empty_reply",
                        response.body[:120].decode(errors="replace"))
            return
        phase.ok(scheduled, done, item.category, item.channel)
        self.source.advance(item.conversation)


class FloorServer:
    """One of `floor_apps`' servers under uvicorn, in its own process group."""

    def __init__(self, level: str, workers: int, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [sys.executable, "-m", "benchmarks.load.floor_apps", level,
                         "--port", str(self.port), "--workers", str(workers)]
        self._env = {**{k: v for k, v in os.environ.items()
                        if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV",
                                 "PYTHONPATH")}, **env}
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(self._command, env=self._env, cwd=ROOT,
                                             stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        # Any answer means uvicorn listens; the workers' TwiML is checked by the warm-up.
        wait_until_ready(self._process, "the floor server", self._log, START_TIMEOUT_S,
                         lambda client: client.get(self.url + "/").status_code > 0)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, 9)
            self._process.wait(timeout=10)


class _Progress:
    """A rich progress bar per measured phase, on stderr, refreshed from the loop."""

    def __init__(self, quiet: bool) -> None:
        self._console = Console(stderr=True, quiet=quiet)
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                                  console=self._console, auto_refresh=False)

    def say(self, text: str) -> None:
        self._console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}")

    async def phase(self, title: str, seconds: float, rate: Callable[[], str],
                    work: asyncio.Task[PhaseResult]) -> PhaseResult:
        with self._progress:
            task = self._progress.add_task(title, total=seconds, rate="")
            started = time.perf_counter()
            while not work.done():
                await asyncio.wait({work}, timeout=0.5)
                self._progress.update(task, completed=min(seconds, time.perf_counter()
                                                          - started), rate=rate())
                self._progress.refresh()
            self._progress.remove_task(task)
        return work.result()


async def _measure(level: Level, target: Target, source: TrafficSource, server_pid: int,
                   database_pids: Callable[[], list[int]], options: FloorOptions,
                   progress: _Progress, report: FloorReport) -> None:
    await _warm_up(level, target, source, options, progress, report)
    for concurrency in options.concurrency:
        await asyncio.sleep(1.0)
        started, load_before = time.strftime("%H:%M:%S"), load_average()
        monitor = ResourceMonitor(server_pid, database_pids)
        before, t0 = _machine_busy_s(), time.perf_counter()
        monitor.start()
        sent0 = source.stats.sent_by_channel["sms"]

        def rate(sent0: int = sent0, t0: float = t0) -> str:
            sent = source.stats.sent_by_channel["sms"] - sent0
            return f"{sent / max(1e-3, time.perf_counter() - t0):.0f} msg/s"

        work = asyncio.create_task(closed_loop(target, concurrency, options.duration_s,
                                               label=f"{level.key} {concurrency}"))
        phase = await progress.phase(f"{level.title[:3]} {concurrency} in flight",
                                     options.duration_s, rate, work)
        phase.usage = await monitor.stop()
        wall = time.perf_counter() - t0
        row = FloorRow(level, phase, _machine_busy_s() - before, wall, started, load_before,
                       load_average())
        report.rows.append(row)
        progress.say(f"{level.title}, {concurrency} in flight: {phase.achieved:.1f} msg/s, "
                     f"server {_f(row.server_ms)} ms/msg, PostgreSQL {_f(row.db_ms)}, "
                     f"generator {_f(row.generator_ms)}, errors {phase.error_count}")


async def _warm_up(level: Level, target: Target, source: TrafficSource, options: FloorOptions,
                   progress: _Progress, report: FloorReport) -> None:
    """Until every sender of the traffic has written once, and at least `warmup_s`: the
    measured turns are then a sender's next message in an open conversation, as most are."""
    senders = source.senders_in_focus()
    started = time.perf_counter()
    warm_errors: Counter[str] = Counter()
    while (len(source.stats.senders_used) < senders
           or time.perf_counter() - started < options.warmup_s):
        if time.perf_counter() - started > WARMUP_LIMIT_S:
            report.notes.append(f"{level.title}: warm-up stopped after {WARMUP_LIMIT_S:.0f} s "
                                f"with {len(source.stats.senders_used)} of {senders} senders")
            break
        warm = await closed_loop(target, max(options.concurrency), 1.0, label="warm")
        warm_errors.update(warm.errors)
    progress.say(f"{level.title}: warmed up in {time.perf_counter() - started:.0f} s "
                 f"({len(source.stats.senders_used)} senders wrote)")
    if warm_errors:
        report.notes.append(f"{level.title}: warm-up errors {dict(warm_errors)}")


def _source(population: Population) -> TrafficSource:
    source = TrafficSource(population, load_mix())
    source.focus(Focus("sms", COST_CATEGORIES))
    return source


async def _run(options: FloorOptions, workdir: Path, progress: _Progress) -> FloorReport:
    report = FloorReport()
    provider = ProviderSecrets()
    providers = FakeProviders(bot_token=provider.bot_token, twilio_sid=provider.twilio_sid,
                              twilio_token=provider.twilio_token)
    await providers.start()
    ours = BenchServer(ServerOptions(
        db="postgres", workers=options.workers, workdir=workdir,
        nlu_cache_dir=options.nlu_cache_dir, postgres_url=options.postgres_url,
        rate_limit_per_minute=options.rate_limit_per_minute), provider, providers.url)
    population = plan_population(options.senders)
    url = ours.database_url
    try:
        progress.say(f"NLU model into {options.nlu_cache_dir}; database "
                     f"{url.rsplit('/', 1)[-1]}: created, migrated, seeded")
        await asyncio.to_thread(load_parser, NluConfig(cache_dir=options.nlu_cache_dir))
        await asyncio.to_thread(ours.create_database)
        env = ours.settings_env  # strings, as the environment would give them
        settings = Settings(_env_file=None, **env)  # type: ignore[arg-type]  # pydantic parses them
        counts = await asyncio.to_thread(
            seed_population, settings.ledger, population, dt.datetime.now(dt.UTC).date(),
            processes=options.seed_processes)
        report.notes.append(f"{postgres_version(url)}; seeded {counts}")
        levels = {level.key: level for level in LEVELS}
        for key in (k for k in RUN_ORDER if k in options.levels):
            await _level(levels[key], ours, provider, providers, population, options,
                         workdir, progress, report)
    finally:
        await providers.stop()
        if not options.keep_database:
            await asyncio.to_thread(ours.drop_database)
    order = [level.key for level in LEVELS]
    report.rows.sort(key=lambda row: (order.index(row.level.key), row.phase.concurrency or 0))
    return report


async def _level(level: Level, ours: BenchServer, provider: ProviderSecrets,
                 providers: FakeProviders, population: Population, options: FloorOptions,
                 workdir: Path, progress: _Progress, report: FloorReport) -> None:
    progress.say(f"{level.title}: starting ({options.workers} uvicorn workers)")
    server: BenchServer | FloorServer
    if level.key == "ours":
        server = ours
    else:
        conninfo = ours.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        server = FloorServer(level.key, options.workers, {
            "FLOOR_TWILIO_TOKEN": provider.twilio_token, "FLOOR_PUBLIC_URL": ours.url,
            "FLOOR_DATABASE_URL": conninfo}, workdir / f"floor-{level.key}.log")
    await asyncio.to_thread(server.start)
    client = HttpClient("127.0.0.1", server.port)
    source = _source(population)
    wire = Wire(ours.url, provider)  # signed over the public URL, as Twilio signs it
    target: Target = (AppTarget(source, wire, client, providers) if level.key == "ours"
                      else FloorTarget(source, wire, client))
    try:
        assert server.pid is not None
        await _measure(level, target, source, server.pid,
                       lambda: postgres_backend_pids(ours.database_url), options, progress,
                       report)
    finally:
        await client.close()
        await asyncio.to_thread(server.stop)


def _f(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(report: FloorReport, options: FloorOptions) -> str:
    """The Markdown table, the columns explained, and the notes (machine, load, time)."""
    lines = [
        "| Level | In flight | msg/s | p50 / p99 ms | Server CPU ms/msg | PostgreSQL CPU ms/msg "
        "| Generator CPU ms/msg | Machine CPU ms/msg | 2 cores ÷ (server + PG) | Errors "
        "| Time, load average before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in report.rows:
        phase = row.phase
        own = (row.server_ms or 0.0) + (row.db_ms or 0.0)
        ceiling = f"{CORES * 1000 / own:.0f}" if own > 0 else "n/a"
        lines.append(
            f"| {row.level.title} | {phase.concurrency} | {phase.achieved:.1f} | "
            f"{phase.latency(50):.1f} / {phase.latency(99):.1f} | {_f(row.server_ms)} | "
            f"{_f(row.db_ms)} | {_f(row.generator_ms)} | {_f(row.machine_ms)} | {ceiling} | "
            f"{phase.error_count} | {row.started}, {row.load_before} → {row.load_after} |")
    lines += [
        "",
        f"CPU per message is CPU time over the phase ÷ messages answered: the server's process "
        f"tree (uvicorn's supervisor and its workers), the PostgreSQL "
        "backends of the bench database, this generator process, and the whole machine (every "
        "process, the kernel included: what the others leave over). '2 cores ÷ (server + PG)' "
        f"is the rate {CORES} cores would give if they did nothing but the server's and "
        "PostgreSQL's work (no generator on the same machine).",
        "",
        *(f"- {note}" for note in machine_description([
            f"{options.workers} uvicorn worker(s) per server, closed loop with "
            f"{', '.join(map(str, options.concurrency))} in flight, {options.duration_s:g} s "
            f"each after a warm-up in which every sender wrote once (at least "
            f"{options.warmup_s:g} s); {options.senders} senders; SMS rule questions and "
            "balances (the harness's cost-phase traffic)",
            *report.notes])),
    ]
    errors = [f"- {row.level.title}, {row.phase.concurrency} in flight: "
              f"{dict(row.phase.errors)}: {'; '.join(row.phase.samples)}"
              for row in report.rows if row.phase.error_count]
    if errors:
        lines += ["", "**Errors:**", *errors]
    return "\n".join(lines) + "\n"


def run(options: FloorOptions, progress_quiet: bool | None = None) -> FloorReport:
    progress = _Progress(options.quiet if progress_quiet is None else progress_quiet)
    with tempfile.TemporaryDirectory(prefix="frikort-floor-") as workdir, \
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_run(options, Path(workdir), progress))


def parse_options(argv: list[str] | None = None) -> FloorOptions:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.floor",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run of some seconds")
    parser.add_argument("--workers", type=int, help="uvicorn workers per server (2)")
    parser.add_argument("--senders", type=int, help="distinct senders (2000)")
    parser.add_argument("--concurrency", help="messages in flight, a list (2,32)")
    parser.add_argument("--duration", type=float, help="seconds per phase (15)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per level (4)")
    parser.add_argument("--levels", help="a list of bare, signed, stored, ours (all)")
    parser.add_argument("--postgres-url", help=f"dropped and created ({DEFAULT_URL}); the "
                        "name must start with frikort_load")
    parser.add_argument("--nlu-cache", type=Path, help="NLU model cache (var/nlu-cache)")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    options = replace(FloorOptions(), **QUICK) if args.quick else FloorOptions()
    chosen: dict[str, Any] = {
        "workers": args.workers, "senders": args.senders, "duration_s": args.duration,
        "warmup_s": args.warmup, "postgres_url": args.postgres_url,
        "nlu_cache_dir": args.nlu_cache, "markdown": args.markdown,
        "concurrency": tuple(int(c) for c in args.concurrency.split(","))
        if args.concurrency else None,
        "levels": tuple(k.strip() for k in args.levels.split(",")) if args.levels else None,
    }
    options = replace(options, keep_database=args.keep_database,
                      **{k: v for k, v in chosen.items() if v is not None})
    unknown = set(options.levels) - {level.key for level in LEVELS}
    if unknown:
        parser.error(f"unknown levels {sorted(unknown)}")
    return options


def main(argv: list[str] | None = None) -> int:
    """Prints the table on stdout (progress on stderr); exits 1 when any message failed."""
    options = parse_options(argv)
    report = run(options)
    text = render(report, options)
    publish(text, options.markdown)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
