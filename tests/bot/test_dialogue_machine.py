"""Random realistic conversations against the real dialogue, on SQLite and PostgreSQL
(tests/bot/dialogue_machine.py says what is checked after every message). A short run here;
benchmarks/dialogue_fuzz.py runs 100.000 steps."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.bot.dialogue_machine import DialogueMachine
from tests.conftest import POSTGRES_ADMIN_URL
from tests.profiles import examples

STEPS = int(os.environ.get("DIALOGUE_MACHINE_STEPS", "40"))
EXAMPLES = int(os.environ.get("DIALOGUE_MACHINE_EXAMPLES", examples(12)))


def _run(database: str, examples: int) -> None:
    machine = type("Machine", (DialogueMachine,), {"database": database})
    machine.TestCase.settings = settings(
        max_examples=examples, stateful_step_count=STEPS, deadline=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking: a failing run prints its whole (short) conversation at once, instead of
        # spending many minutes making it shorter.
        phases=(Phase.explicit, Phase.reuse, Phase.generate))
    machine.TestCase().runTest()


def test_random_conversations_on_sqlite() -> None:
    _run("sqlite", EXAMPLES)


@pytest.mark.postgres
def test_random_conversations_on_postgres(postgres_available: bool) -> None:
    if not postgres_available:
        pytest.skip("PostgreSQL not reachable (this is a failure when CI is set)")
    _run(POSTGRES_ADMIN_URL, max(EXAMPLES // 3, 2))
