"""Outreach at national size: one simulated year of the synthetic population (15.000 cards at
scale 1.0) through the outreach scheduler, with a simulated clock.

    python -m benchmarks.outreach                         # PostgreSQL, scale 1.0
    python -m benchmarks.outreach --backend sqlite --scale 0.1 --price-ore 45

The data set (`ledger.synthetic`, as `make bench-national` writes it) ends on 30 June 2026;
the year after it is played with one sweep a day at 09:00 Danish time, the first sweep of the
morning being the one that sends what fell due in the night (the server sweeps every five
minutes; between 09:00 and 20:00 what falls due goes within minutes). An operator sets the
2027 cap on 1 December 2026. Nothing else happens in the simulated year: no new reports or
conversations, so the figures are what the rules send to a population that stands still
(cap thresholds already crossed, cards never used, controls falling due, the new year).

Printed: messages and SMS segments per card holder per month by rule, the largest sweep (the
peak hour: every message of it is queued in the hour after 09:00), the total cost at the
given price per segment, and the time a sweep takes (all sweeps, and those with nothing to
send: the cost every server process pays every five minutes). PostgreSQL uses a database of
its own (`frikort_outreach_bench`), dropped and created again, never `test`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.bootstrap import Backend
from benchmarks import national_ops as ops
from benchmarks.national import postgres_database, sqlite_database
from db.commands import Actor
from db.migrate import upgrade
from ledger import SetCap
from outreach.sweep import run_sweep
from sampledata import generate, plan_for_scale

DK = ZoneInfo("Europe/Copenhagen")
POSTGRES_URL = os.environ.get(
    "OUTREACH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/frikort_outreach_bench")
START = dt.datetime(2026, 6, 30, 9, 0, tzinfo=DK)
NEW_CAP_ON = dt.datetime(2026, 12, 1, 8, 0, tzinfo=DK)
NEW_CAP_ORE = 43_500_00
OPERATOR = Actor(name="bench:operator", channel="cli")
TARGET_S = 1.0


class SimClock:
    """The ledger's clock, moved by the simulation."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def play(url: str, backend: str, scale: float, days: int, price_ore: int,
         console: Console) -> None:
    upgrade(url)
    settings = ops.settings_for(url)
    plan = plan_for_scale(scale, now=START.astimezone(dt.UTC) - dt.timedelta(minutes=1))
    console.print(f"[bold]{backend}[/], scale {scale:g}: generating {plan.cards} cards, "
                  f"{plan.reports} reports ...")
    report = generate(settings.ledger, plan)
    console.print(f"  {report.total_rows} rows in "
                  f"{report.seconds_planning + report.seconds_writing:.0f} s")
    clock = SimClock(START)
    ledger = Backend(settings.ledger, clock=clock)
    by_rule_month: dict[str, Counter[str]] = defaultdict(Counter)
    segments_by_rule: Counter[str] = Counter()
    sweeps: list[tuple[dt.datetime, float, int]] = []
    held_back = skipped = 0
    cap_set = False
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} days"), TimeElapsedColumn(),
                      console=console) as progress:
            task = progress.add_task(f"{backend}: one sweep a day", total=days)
            for day in range(days):
                local = START + dt.timedelta(days=day)
                at = dt.datetime(local.year, local.month, local.day, 9, 0, tzinfo=DK)
                if not cap_set and at >= NEW_CAP_ON:
                    clock.now = NEW_CAP_ON.astimezone(dt.UTC)
                    ledger.set_cap(SetCap(year=2027, amount_ore=NEW_CAP_ORE,
                                          source="https://example.invalid/bench"),
                                   actor=OPERATOR)
                    cap_set = True
                clock.now = at.astimezone(dt.UTC)
                result = run_sweep(ledger.outreach, at=clock.now)
                month = at.strftime("%Y-%m")
                for outcome in result.sent:
                    by_rule_month[outcome.rule][month] += 1
                    segments_by_rule[outcome.rule] += outcome.segments
                held_back += sum(1 for o in result.outcomes if o.status == "deferred")
                skipped += sum(1 for o in result.outcomes if o.status == "skipped")
                sweeps.append((at, result.seconds, len(result.sent)))
                progress.advance(task)
            idle = []
            for _ in range(5):  # the steady state: nothing new to send
                result = run_sweep(ledger.outreach, at=clock.now)
                idle.append(result.seconds)
    finally:
        ledger.close()
    _report(console, backend, scale, plan.cards, days, price_ore, by_rule_month,
            segments_by_rule, sweeps, idle, held_back, skipped)


def _report(console: Console, backend: str, scale: float, cards: int, days: int,
            price_ore: int, by_rule_month: dict[str, Counter[str]],
            segments_by_rule: Counter[str], sweeps: list[tuple[dt.datetime, float, int]],
            idle: list[float], held_back: int, skipped: int) -> None:
    months = days / 30.44
    table = Table(title=f"Outreach over {days} days, {backend}, scale {scale:g} "
                        f"({cards} cards)")
    for column in ("rule", "messages", "per card holder per month", "SMS segments",
                   "segments per holder per month", "busiest month"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    total_messages = total_segments = 0
    for rule in sorted(by_rule_month):
        count = sum(by_rule_month[rule].values())
        segs = segments_by_rule[rule]
        total_messages += count
        total_segments += segs
        month, most = by_rule_month[rule].most_common(1)[0]
        table.add_row(rule, f"{count:,}", f"{count / cards / months:.3f}", f"{segs:,}",
                      f"{segs / cards / months:.3f}", f"{month}: {most:,}")
    table.add_row("all", f"{total_messages:,}", f"{total_messages / cards / months:.3f}",
                  f"{total_segments:,}", f"{total_segments / cards / months:.3f}", "",
                  style="bold")
    console.print(table)
    seconds = [s for _, s, _ in sweeps]
    peak_at, _, peak = max(sweeps, key=lambda s: s[2])
    cost_kr = total_segments * price_ore / 100
    figures = Table(title="Peak, cost and sweep time", show_header=False)
    figures.add_column("measure")
    figures.add_column("value", justify="right")
    figures.add_row("peak hour (largest sweep)", f"{peak:,} messages, {peak_at:%d.%m.%Y} 09-10")
    figures.add_row(f"total cost at {price_ore} øre per segment", f"{cost_kr:,.2f} kr.")
    figures.add_row("held back by the weekly limit (sent later)", f"{held_back:,}")
    figures.add_row("not sent (STOP, no contact, inactive card, ...)", f"{skipped:,}")
    figures.add_row("sweep time p50 / p95 / max, all sweeps",
                    f"{statistics.median(seconds):.3f} / {_p(seconds, 0.95):.3f} / "
                    f"{max(seconds):.3f} s")
    figures.add_row("sweep time, nothing to send (p50 of 5)",
                    f"{statistics.median(idle):.3f} s (target < {TARGET_S:g} s)")
    figures.add_row("load average after", "/".join(f"{x:.1f}" for x in os.getloadavg()))
    console.print(figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--price-ore", type=int, default=45,
                        help="price of one SMS segment in øre (default 45)")
    args = parser.parse_args(argv)
    console = Console(file=sys.stdout, width=132)
    database = (postgres_database(POSTGRES_URL) if args.backend == "postgres"
                else sqlite_database())
    with database as url:
        play(url, args.backend, args.scale, args.days, args.price_ore, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
