"""Command-line options of `python -m benchmarks.load` (also built directly by the tests)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.load.profile import PROFILE_PHASES
from benchmarks.load.server import DEFAULT_POSTGRES_URL

__all__ = ["LoadOptions", "parse_options"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LoadOptions:
    dbs: tuple[str, ...] = ("postgres",)
    workers: int = 2
    instances: int = 1
    """Separate server instances on one database (own processes and ports, as on N machines);
    each message goes to the next in turn."""
    senders: int = 10_000
    rates: tuple[float, ...] = (25.0, 50.0, 100.0, 200.0)
    duration_s: float = 20.0
    saturation_s: float = 30.0
    concurrency: tuple[int, ...] = (32,)
    warmup_s: float = 5.0
    cost_s: float = 15.0
    """Seconds of each cost phase (SMS alone, then calls alone); 0 skips them."""
    cost_concurrency: int = 2
    rate_limit_per_minute: int = 20
    log_level: str = "INFO"
    seed_processes: int = 2
    workdir: Path | None = None
    nlu_cache_dir: Path = ROOT / "var" / "nlu-cache"
    postgres_url: str = DEFAULT_POSTGRES_URL
    keep_database: bool = False
    """Leave the PostgreSQL database in place at the end (a test looks into it)."""
    rasa: str = "auto"
    rasa_venv: Path = ROOT / ".venv-rasa"
    rasa_models: Path = ROOT / "var" / "rasa-models"
    rasa_model: Path | None = None
    rasa_epochs: int | None = None
    markdown: Path | None = None
    profile_dir: Path | None = None
    """Record py-spy profiles of every worker into this directory (benchmarks/load/profile.py)."""
    profile_phases: frozenset[str] = frozenset({"saturation"})
    profile_nonblocking: bool = False
    profile_rate: int = 200
    extra_notes: tuple[str, ...] = field(default_factory=tuple)


QUICK = {"senders": 200, "rates": (5.0, 10.0), "duration_s": 3.0, "saturation_s": 3.0,
         "concurrency": (4,), "warmup_s": 1.0, "workers": 1, "seed_processes": 1,
         "cost_s": 3.0}


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _phase_kinds(text: str) -> frozenset[str]:
    kinds = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = kinds - set(PROFILE_PHASES)
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"phases to profile: a list of {', '.join(PROFILE_PHASES)}")
    return kinds


def parse_options(argv: list[str] | None = None) -> LoadOptions:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description="Loads the real server (uvicorn, N workers) through the signed Twilio and "
                    "the Telegram webhook and prints throughput and latency (docs/load-bench.md).")
    parser.add_argument("--db", choices=("postgres", "sqlite", "both"), default="postgres")
    parser.add_argument("--workers", type=int, help="uvicorn worker processes (default 2)")
    parser.add_argument("--instances", type=int,
                        help="separate server instances on one database, each with --workers "
                             "workers (own processes and ports, as on N machines behind a "
                             "load balancer); messages go to each in turn (default 1)")
    parser.add_argument("--senders", type=int, help="distinct senders (default 10000)")
    parser.add_argument("--rates", type=_floats, help="fixed arrival rates, msg/s: 25,50,100,200")
    parser.add_argument("--duration", type=float, help="seconds per fixed rate (default 20)")
    parser.add_argument("--saturation-duration", type=float, help="seconds (default 30)")
    parser.add_argument("--concurrency", type=_ints,
                        help="messages in flight at saturation; a list runs each (default 32)")
    parser.add_argument("--warmup", type=float, help="seconds of unreported warm-up (5)")
    parser.add_argument("--cost-duration", type=float,
                        help="seconds of each cost phase: rule questions and balances by SMS "
                             "alone, then by phone alone (default 15; 0 skips them)")
    parser.add_argument("--cost-concurrency", type=int,
                        help="messages in flight in the cost phases (default 2)")
    parser.add_argument("--rate-limit", type=int, default=20,
                        help="SENDER_RATE_LIMIT_PER_MINUTE of the server (default 20, as shipped)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING"))
    parser.add_argument("--seed-processes", type=int, help="processes seeding PostgreSQL (2)")
    parser.add_argument("--workdir", type=Path, help="keep logs and the SQLite file here")
    parser.add_argument("--nlu-cache", type=Path, help="NLU model cache (var/nlu-cache)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="database to drop and create; its name must start frikort_load")
    parser.add_argument("--keep-database", action="store_true",
                        help="leave the PostgreSQL database in place at the end")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 200 senders, 5 and 10 msg/s for 3 s, 1 worker, "
                             "cost phases of 3 s")
    parser.add_argument("--rasa", choices=("auto", "skip"), help="measure Rasa when .venv-rasa "
                        "exists (auto; skip with --quick unless --rasa-model is given)")
    parser.add_argument("--rasa-venv", type=Path, default=ROOT / ".venv-rasa")
    parser.add_argument("--rasa-models", type=Path, default=ROOT / "var" / "rasa-models",
                        help="where trained models are kept (newest is used)")
    parser.add_argument("--rasa-model", type=Path, help="a trained model .tar.gz to serve")
    parser.add_argument("--rasa-epochs", type=int,
                        help="train with this many DIET epochs when no model exists")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="py-spy every uvicorn worker during the profiled phases: flame "
                             "graphs and collapsed stacks in DIR")
    parser.add_argument("--profile-phases", type=_phase_kinds,
                        help="which phases --profile records, a list of fixed, saturation, "
                             "cost (default saturation)")
    parser.add_argument("--profile-rate", type=int, default=200,
                        help="py-spy samples per second (default 200)")
    parser.add_argument("--profile-nonblocking", action="store_true",
                        help="py-spy --nonblocking: never pause a worker to read its stack")
    args = parser.parse_args(argv)

    values: dict[str, Any] = dict(QUICK) if args.quick else {}
    if args.quick and args.rasa is None and args.rasa_model is None:
        values["rasa"] = "skip"
    chosen = {
        "workers": args.workers, "instances": args.instances, "senders": args.senders, "rates": args.rates,
        "duration_s": args.duration, "saturation_s": args.saturation_duration,
        "concurrency": args.concurrency, "warmup_s": args.warmup,
        "cost_s": args.cost_duration, "cost_concurrency": args.cost_concurrency,
        "seed_processes": args.seed_processes, "workdir": args.workdir,
        "nlu_cache_dir": args.nlu_cache, "rasa": args.rasa, "rasa_model": args.rasa_model,
        "rasa_epochs": args.rasa_epochs, "markdown": args.markdown,
        "profile_dir": args.profile, "profile_phases": args.profile_phases,
    }
    values.update({k: v for k, v in chosen.items() if v is not None})
    if values.get("instances", 1) < 1:
        parser.error("--instances must be at least 1")
    if values.get("instances", 1) > 1 and args.profile is not None:
        parser.error("--profile records one instance's workers: use it with --instances 1")
    dbs = ("postgres", "sqlite") if args.db == "both" else (args.db,)
    return LoadOptions(dbs=dbs, rate_limit_per_minute=args.rate_limit,
                       keep_database=args.keep_database,
                       log_level=args.log_level, postgres_url=args.postgres_url,
                       rasa_venv=args.rasa_venv,
                       profile_nonblocking=args.profile_nonblocking,
                       profile_rate=args.profile_rate, rasa_models=args.rasa_models,
                       **values)
