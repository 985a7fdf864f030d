"""Random realistic conversations against the real dialogue, many of them.

    python -m benchmarks.dialogue_fuzz [--steps 100000] [--postgres URL]

Plays the Hypothesis state machine of tests/bot/dialogue_machine.py (employers, card holders
and unknown numbers writing real replies, numbers, dates, keywords, questions and crisis words,
with pauses of minutes to days and the server's expiry sweep) until the given number of
messages has been sent, on SQLite and, when a PostgreSQL URL is given, on PostgreSQL too.
Any failure stops the run with Hypothesis's minimal example. Prints one summary line.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from rich.progress import Progress

STEPS_PER_RUN = 100
RUNS_PER_CHUNK = 20


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--steps", type=int, default=100_000)
    options.add_argument("--postgres", default=None, help="a PostgreSQL server URL")
    args = options.parse_args(argv)
    from tests.bot.dialogue_machine import DialogueMachine

    databases = ["sqlite", *([args.postgres] if args.postgres else [])]
    started, sent = time.perf_counter(), 0
    with Progress() as progress:
        task = progress.add_task("random conversations", total=args.steps * len(databases))
        for database in databases:
            machine: Any = type("Machine", (DialogueMachine,), {"database": database})
            machine.TestCase.settings = settings(
                max_examples=RUNS_PER_CHUNK, stateful_step_count=STEPS_PER_RUN, deadline=None,
                suppress_health_check=list(HealthCheck), database=None, derandomize=False,
                phases=(Phase.generate,))
            done_here = 0
            while done_here < args.steps:
                before = _count(machine)
                machine.TestCase().runTest()
                steps = _count(machine) - before
                done_here += steps
                sent += steps
                progress.update(task, advance=steps)
    elapsed = time.perf_counter() - started
    print(f"{sent} messages in random conversations on {', '.join(_name(d) for d in databases)}"  # noqa: T201
          f": 0 failures, {elapsed:.0f} s ({sent / elapsed:.0f} messages/s)")
    return 0


def _count(machine: type) -> int:
    return int(getattr(machine, "sent_total", 0))


def _name(database: str) -> str:
    return "SQLite" if database == "sqlite" else "PostgreSQL"


if __name__ == "__main__":
    sys.exit(main())
