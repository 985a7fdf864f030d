"""What people get, end to end: both answer files played through the real dialogue (NLU,
flows, ledger) on the demo data, one fresh database per message, scored by bot.evaluation.

tuning.yml (used while building) and holdout.yml (written separately, never used for tuning)
each hold a floor: answer accuracy, the "Det forstod jeg ikke" rate, crisis recall and no
server errors. The figures are printed; `frikort bot evaluate --answers FILE --wrong` lists
every wrong answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from api.answer_world import AnswerWorld
from bot.evaluation import load_cases, score
from nlu import Parser
from tests.bot.conftest import crisis_classifier
from tests.ledger.support import make_config

ANSWERS = Path(__file__).parent / "answers"
NOW = dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC)
FLOORS = {
    # file: (answer accuracy, highest not-understood rate)
    "tuning.yml": (0.96, 0.02),
    "holdout.yml": (0.945, 0.02),
}


SHARDS = {"tuning.yml": 15, "holdout.yml": 1}
"""The tuning file is played in fifteen interleaved shards, each with the file's floors, so the
parallel test run is not held up by one long test (10.000 messages take minutes)."""


@pytest.mark.parametrize(("name", "shard"), [(name, shard) for name in sorted(FLOORS)
                                             for shard in range(SHARDS[name])])
def test_answers_to_realistic_messages(name: str, shard: int, parser: Parser, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    config = dataclasses.replace(make_config(f"sqlite:///{tmp_path / 'unused.db'}"))
    world = AnswerWorld(config, parser, now=NOW, crisis=crisis_classifier())
    cases = load_cases(ANSWERS / name)[shard::SHARDS[name]]
    try:
        report = score(world.play(case) for case in cases)
    finally:
        world.close()
    with capsys.disabled():
        print(f"\n{name} [{shard + 1}/{SHARDS[name]}]: {report['accuracy']:.1%} of "
              f"{report['messages']} right "
              f"(card holder {report['by_audience']['card holder']['accuracy']:.1%}, employer "
              f"{report['by_audience']['employer']['accuracy']:.1%}, unknown "
              f"{report['by_audience']['unknown']['accuracy']:.1%}), "
              f"{report['not_understood']:.1%} not understood, crisis recall "
              f"{report['crisis_recall']:.0%} of {report['crisis_messages']}, "
              f"{report['server_errors']} server errors")
    accuracy, not_understood = FLOORS[name]
    assert report["server_errors"] == 0
    assert report["crisis_recall"] == 1.0, [w for w in report["wrong"] if "crisis" in w["expected"]]
    assert report["not_understood"] <= not_understood
    assert report["accuracy"] >= accuracy, report["confusions"]


def test_the_answer_files_are_as_large_as_promised() -> None:
    assert len(load_cases(ANSWERS / "tuning.yml")) >= 400
    assert len(load_cases(ANSWERS / "holdout.yml")) >= 150
