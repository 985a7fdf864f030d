"""The held-out multi-turn scenarios (tests/bot/scenarios_holdout/): written from how people
behave and what the issues promise, separately from the code, and never used to tune it.
Same format as tests/bot/scenarios/. The test prints the flow success rate and holds a floor;
a scenario that fails here is a finding to report, not a test to edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu import Parser
from tests.bot.test_scenarios import play
from tests.yaml_files import read_yaml

HOLDOUT = Path(__file__).parent / "scenarios_holdout"
FLOOR = 0.95
"""The issue's target for the share of held-out conversations that work fully."""


def test_held_out_flows_succeed(parser: Parser, tmp_path_factory: pytest.TempPathFactory,
                                capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(HOLDOUT.glob("*.yml"))
    assert len(files) >= 50, "the held-out set needs at least 50 conversations"
    failed = []
    for path in files:
        scenario = read_yaml(path)
        try:
            play(scenario, tmp_path_factory.mktemp(path.stem), parser)
        except AssertionError as miss:
            failed.append(f"{path.stem}: {str(miss).splitlines()[0]}")
    rate = 1 - len(failed) / len(files)
    with capsys.disabled():
        print(f"\nheld-out flows: {len(files) - len(failed)}/{len(files)} work fully "
              f"({rate:.1%})")
        for line in failed:
            print(f"  failed {line}")
    assert rate >= FLOOR, failed
