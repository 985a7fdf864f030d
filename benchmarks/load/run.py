"""One load run: for each database, seed, start the server, warm it up, run every phase, then
the cost phases (SMS turns, then call turns, of the same kinds: what a turn costs on each
channel); then Rasa's /model/parse at the same rates. Returns the report (printing is the
caller's job)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path

import uvloop

from api.settings import Settings
from benchmarks.load import rasa as rasa_side
from benchmarks.load.drive import PhaseResult, Target, closed_loop, open_loop
from benchmarks.load.httpclient import HttpClient, SpreadClient
from benchmarks.load.options import LoadOptions
from benchmarks.load.profile import ProfileSession
from benchmarks.load.providers import FakeProviders
from benchmarks.load.report import RunReport, ServerRun, machine_description
from benchmarks.load.resources import ResourceMonitor, load_average
from benchmarks.load.seed import Population, plan_population, seed_population
from benchmarks.load.server import (
    BenchServer,
    ServerOptions,
    counter_total,
    postgres_backend_pids,
    postgres_version,
)
from benchmarks.load.targets import AppTarget, RasaTarget
from benchmarks.load.traffic import Focus, Mix, TrafficSource, load_mix, sample_texts
from benchmarks.load.wire import ProviderSecrets, Wire
from nlu import NluConfig, load_parser

__all__ = ["run"]

COST_CATEGORIES = frozenset({"rule_question", "balance"})
"""What the cost phases compare: the kinds of question a caller asks, asked by SMS or by phone."""
COST_CHANNELS = ("sms", "voice")

def say(text: str) -> None:
    """Progress on stderr; the report itself goes to stdout."""
    sys.stderr.write(f"[load {time.strftime('%H:%M:%S')}] {text}\n")
    sys.stderr.flush()


async def _phases(run: ServerRun, target: Target, options: LoadOptions,
                  monitor: Callable[[], ResourceMonitor],
                  profile: ProfileSession | None = None) -> None:
    """Every fixed rate (an overloaded one stops early, see `open_loop`), then saturation."""
    plans: list[tuple[str, str, Callable[[], Awaitable[PhaseResult]]]] = []
    for rate in options.rates:
        plans.append(("fixed", f"fixed rate {rate:g}/s", functools.partial(
            open_loop, target, rate, options.duration_s, label=f"{rate:g}/s")))
    for concurrency in options.concurrency:
        plans.append(("saturation", f"saturation, {concurrency} in flight", functools.partial(
            closed_loop, target, concurrency, options.saturation_s,
            label=f"saturation {concurrency}")))
    for kind, title, make in plans:
        await _measured(run, title, make, monitor, profile, kind)


async def _measured(run: ServerRun, title: str, make: Callable[[], Awaitable[PhaseResult]],
                    monitor: Callable[[], ResourceMonitor],
                    profile: ProfileSession | None = None, kind: str = "") -> PhaseResult:
    say(f"{run.name}: {title} (load average {load_average()})")
    watch = monitor()
    async with profile.phase(kind, title) if profile else contextlib.nullcontext():
        watch.start()
        phase = await make()
        phase.usage = await watch.stop()
    run.phases.append(phase)
    say(f"  {phase.achieved:.1f} msg/s, p50 {phase.latency(50):.1f} ms, p99 "
        f"{phase.latency(99):.1f} ms, errors {phase.error_count}")
    await asyncio.sleep(1.0)
    return phase


async def _cost_phases(run: ServerRun, target: AppTarget, source: TrafficSource,
                       options: LoadOptions, monitor: Callable[[], ResourceMonitor],
                       profile: ProfileSession | None = None) -> None:
    """One channel at a time, the same kinds of question, a few in flight: the server's CPU
    per message and the latency of each channel alone (a mixed phase cannot split CPU)."""
    if options.cost_s <= 0:
        return
    try:
        for channel in COST_CHANNELS:
            focus = Focus(channel, COST_CATEGORIES)
            source.focus(focus)
            finished = source.stats.completed
            phase = await _measured(run, f"cost phase, {focus.describe()}", functools.partial(
                closed_loop, target, options.cost_concurrency, options.cost_s,
                label=f"cost {channel}"), monitor, profile, "cost")
            phase.focus = focus.describe()
            phase.conversations = source.stats.completed - finished
    finally:
        source.focus(None)


async def _measure_ours(db: str, options: LoadOptions, workdir: Path, population: Population,
                        mix: Mix, report: RunReport) -> None:
    provider = ProviderSecrets()
    providers = FakeProviders(bot_token=provider.bot_token, twilio_sid=provider.twilio_sid,
                              twilio_token=provider.twilio_token)
    await providers.start()
    server = BenchServer(ServerOptions(
        db="postgres" if db == "postgres" else "sqlite", workers=options.workers,
        workdir=workdir, nlu_cache_dir=options.nlu_cache_dir,
        postgres_url=options.postgres_url, rate_limit_per_minute=options.rate_limit_per_minute,
        log_level=options.log_level), provider, providers.url)
    instances = [server, *(server.twin(i) for i in range(1, options.instances))]
    name = _run_name(db, options)
    run = ServerRun(name)
    report.runs.append(run)
    clients = [HttpClient("127.0.0.1", instance.port) for instance in instances]
    client = clients[0] if len(clients) == 1 else SpreadClient(clients)
    try:
        say(f"{name}: creating and migrating the database")
        await asyncio.to_thread(server.create_database)
        if db == "postgres":
            report.notes.append(f"{name}: {postgres_version(server.database_url)}, database "
                                f"{server.database_url.rsplit('/', 1)[-1]} (fresh)")
        started = time.perf_counter()
        settings = Settings(
            _env_file=None,
            **server.settings_env,  # type: ignore[arg-type]  # env strings, parsed by pydantic
        )
        processes = options.seed_processes if db == "postgres" else 1
        counts = await asyncio.to_thread(seed_population, settings.ledger, population,
                                         dt.datetime.now(dt.UTC).date(), processes=processes)
        run.notes.append(f"{name}: seeded through the Ledger facade in "
                         f"{time.perf_counter() - started:.0f} s: {counts}")
        say(f"{name}: seeded {counts}; starting `frikort serve --workers {options.workers}`"
            + (f" {len(instances)} times" if len(instances) > 1 else ""))
        for instance in instances:
            await asyncio.to_thread(instance.start)
        source = TrafficSource(population, mix)
        target = AppTarget(source, Wire(server.url, provider), client, providers)
        warm = await closed_loop(target, min(8, max(options.concurrency)), options.warmup_s,
                                 label="warm-up")
        run.warmup_errors.update(warm.errors)
        database_pids = ((lambda: postgres_backend_pids(server.database_url))
                         if db == "postgres" else None)
        profile = (ProfileSession(options.profile_dir, server.pid, options.profile_phases, db,
                                  rate_hz=options.profile_rate,
                                  nonblocking=options.profile_nonblocking)
                   if options.profile_dir is not None else None)
        server_pids = [pid for pid in (instance.pid for instance in instances)
                       if pid is not None]
        await _phases(run, target, options,
                      lambda: ResourceMonitor(server_pids, database_pids), profile)
        # The mix as the mixed phases sent it (the cost phases send one channel each).
        run.mix = Counter(source.stats.sent_by_category)
        run.channels = Counter(source.stats.sent_by_channel)
        await _cost_phases(run, target, source, options,
                           lambda: ResourceMonitor(server_pids, database_pids), profile)
        if profile is not None and profile.written:
            phases = ", ".join(sorted(options.profile_phases))
            run.notes.append(f"{name}: py-spy profiles of the workers ({phases} phases) in "
                             f"{options.profile_dir}: {len(profile.written)} files")
        await asyncio.sleep(1.5)  # the outbox's last deliveries
        counted = [counter_total(await asyncio.to_thread(instance.metrics),
                                 "frikort_messages_in_total") for instance in instances]
        run.server_counted = sum(counted)  # each instance counts its own workers' messages
        if len(instances) > 1:
            run.instance_counts = counted
            run.notes.append(f"{name}: new inbound messages counted by each instance: "
                             + ", ".join(f"{c:.0f}" for c in counted))
        run.sent_ok_http = target.answered
        _conversation_notes(run, source, target, population, providers)
        if run.server_counted != target.answered:
            run.notes.append(f"**{name}: the server counted {run.server_counted:.0f} new "
                             f"inbound messages but answered {target.answered} with 200**")
            run.warmup_errors["server_count_mismatch"] += 1
    finally:
        await client.close()
        for instance in instances:
            await asyncio.to_thread(instance.stop)
        await providers.stop()
        if db == "postgres" and not options.keep_database:
            await asyncio.to_thread(server.drop_database)


def _run_name(db: str, options: LoadOptions) -> str:
    workers = f"{options.workers} worker{'s' if options.workers > 1 else ''}"
    where = "PostgreSQL" if db == "postgres" else "SQLite"
    if options.instances > 1:
        return f"ours, {where}, {options.instances} instances × {workers}"
    return f"ours, {where}, {workers}"


def _conversation_notes(run: ServerRun, source: TrafficSource, target: AppTarget,
                        population: Population, providers: FakeProviders) -> None:
    stats = source.stats
    run.notes.append(
        f"{run.name}: {len(stats.senders_used)} distinct senders of {population.size} wrote; "
        f"{stats.completed} conversations finished, {stats.abandoned} abandoned after an "
        f"error; the server answered {run.sent_ok_http} webhooks with 200 and counted "
        f"{run.server_counted:.0f} new inbound messages (frikort_messages_in_total, a call's "
        f"start and each of its answers counting one); {target.hung_up} calls hung up (status "
        f"callback answered 204); the fake providers received "
        f"{providers.counts.telegram_messages} Telegram and {providers.counts.sms_messages} "
        "outbox SMS")
    if stats.applicants_exhausted:
        run.notes.append(f"{run.name}: {stats.applicants_exhausted} applications were not "
                         "started (every unknown number had applied): use more --senders")
    if providers.counts.rejected:
        run.warmup_errors.update({f"provider_{k}": v for k, v in
                                  providers.counts.rejected.items()})


async def _measure_rasa(options: LoadOptions, workdir: Path, population: Population, mix: Mix,
                        report: RunReport) -> None:
    rasa = rasa_side.rasa_executable(options.rasa_venv)
    if rasa is None:
        report.notes.append(
            f"Rasa was not measured: {options.rasa_venv}/bin/rasa does not exist "
            "(scripts/rasa_compare.sh builds .venv-rasa; then run this again)")
        return
    model = options.rasa_model or rasa_side.find_model(options.rasa_models)
    if model is None:
        say(f"no Rasa model in {options.rasa_models}: training one "
            f"({options.rasa_epochs or 'full 100'} epochs; the full config takes ~20 min)")
        model = await asyncio.to_thread(rasa_side.train_model, rasa, options.rasa_models,
                                        options.rasa_epochs)
    server = rasa_side.RasaServer(rasa, model.resolve(), workdir / "rasa-server.log")
    run = ServerRun("Rasa 3.6 /model/parse")
    report.runs.append(run)
    run.notes.append(f"Rasa model {rasa_side.describe_model(model)}; `rasa run --enable-api`, "
                     "one process, the same message texts in the same mix")
    say("Rasa: starting `rasa run --enable-api` (TensorFlow takes a while)")
    await asyncio.to_thread(server.start)
    client = HttpClient("127.0.0.1", server.port)
    try:
        target = RasaTarget(client, sample_texts(population, mix, 20_000))
        warm = await closed_loop(target, 4, options.warmup_s, label="warm-up")
        run.warmup_errors.update(warm.errors)
        await _phases(run, target, options, lambda: ResourceMonitor(server.pid))
    finally:
        await client.close()
        await asyncio.to_thread(server.stop)


async def _run(options: LoadOptions, workdir: Path) -> RunReport:
    report = RunReport(machine=[])
    load_before = load_average()
    mix = load_mix()
    population = plan_population(options.senders)
    say(f"NLU model: loading or training it once into {options.nlu_cache_dir}")
    await asyncio.to_thread(load_parser, NluConfig(cache_dir=options.nlu_cache_dir))
    for db in options.dbs:
        await _measure_ours(db, options, workdir, population, mix, report)
    if options.rasa != "skip":
        await _measure_rasa(options, workdir, population, mix, report)
    shares = ", ".join(f"{k.replace('_', ' ')} {v:g} %" for k, v in mix.categories.items())
    report.machine = machine_description([
        f"load average (1, 5, 15 min) {load_before} before the run, {load_average()} after "
        "(other jobs share this machine: read the figures with that in mind)",
        f"server: `frikort serve --workers {options.workers}` (uvicorn), ENVIRONMENT=production"
        f", LOG_LEVEL={options.log_level} (JSON lines to a file), SENDER_RATE_LIMIT_PER_MINUTE="
        f"{options.rate_limit_per_minute}, embedded NLU; generator and fake providers in one "
        "asyncio process on the same machine",
        f"{population.size} senders: {len(population.holders)} card holders "
        f"({population.count('holder', 'telegram')} on Telegram, "
        f"{population.count('holder', 'voice')} calling), {len(population.employers)} "
        f"verified employers ({population.count('employer', 'telegram')} on Telegram), "
        f"{len(population.unknowns)} unknown numbers "
        f"({population.count('unknown', 'telegram')} on Telegram, "
        f"{population.count('unknown', 'voice')} calling)",
        f"message mix asked for (traffic.yml): {mix.voice:g} % of messages are turns of phone "
        f"calls; the other {100 - mix.voice:g} %: {shares}",
        f"fixed rates for {options.duration_s:g} s each, latency from the scheduled send time; "
        f"saturation for {options.saturation_s:g} s; warm-up {options.warmup_s:g} s not shown; "
        + (f"cost phases {options.cost_s:g} s each, {options.cost_concurrency} in flight, "
           f"{' and '.join(c.replace('_', ' ') + 's' for c in sorted(COST_CATEGORIES))} only: "
           "SMS senders, then callers" if options.cost_s > 0 else "no cost phases"),
        *options.extra_notes,
    ])
    return report


def run(options: LoadOptions) -> RunReport:
    """Runs everything; the work directory is temporary unless --workdir is given."""
    if options.workdir is not None:
        options.workdir.mkdir(parents=True, exist_ok=True)
        return _on_uvloop(_run(options, options.workdir.resolve()))
    with tempfile.TemporaryDirectory(prefix="frikort-load-") as workdir:
        return _on_uvloop(_run(options, Path(workdir)))


def _on_uvloop(work: Coroutine[None, None, RunReport]) -> RunReport:
    """uvloop, as the server itself uses: the generator needs its CPU to stay small."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(work)
