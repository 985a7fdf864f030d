"""`frikort nlu parse/evaluate/train` as other tools call them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from nlu.parser import ClassifierParser
from tests.fakes.http_server import RunningServer, closed_port, serve_asgi
from tests.fakes.rasa_api import FakeRasa
from tests.nlu.conftest import FIXTURES, REPO

SMALL = str(FIXTURES / "held_out_small.yml")


@pytest.fixture
def env(real_parser: ClassifierParser, real_cache_dir: Path) -> dict[str, str]:
    """Environment pointing the CLI at the session's already-trained model cache."""
    return {"NLU_CACHE_DIR": str(real_cache_dir), "NLU_BACKEND": "embedded"}


def test_parse_one_json_line_per_input_in_order(env: dict[str, str]) -> None:
    lines = ["hej", "indberet 4 timer 600 kr frikort 48213", "", "saldo?", "tak 🙏"]
    result = CliRunner().invoke(
        app, ["nlu", "parse", "--today", "2026-11-23"], input="\n".join(lines) + "\n", env=env
    )
    assert result.exit_code == 0, result.output
    parsed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["text"] for p in parsed] == lines
    assert parsed[1]["intent"]["name"] == "employer_report_wage"
    assert [(e["entity"], e["value"]) for e in parsed[1]["entities"]] == [
        ("hours", "4"),
        ("amount", "600.00"),
        ("card_number", "48213"),
    ]
    assert parsed[2]["intent"]["name"] == "nlu_fallback"


def test_parse_streams_each_line_before_the_next_arrives(env: dict[str, str]) -> None:
    command = [sys.executable, "-c", "from api.cli import main; main()", "nlu", "parse"]
    with subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **env},
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        for text in ["hej", "i går 2,5 t"]:
            process.stdin.write(text + "\n")
            process.stdin.flush()
            assert json.loads(process.stdout.readline())["text"] == text
        process.stdin.close()
        assert process.wait(timeout=30) == 0


def test_evaluate_json(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["nlu", "evaluate", SMALL, "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["backend"] == "embedded" and report["messages"] == 4
    for key in (
        "accuracy",
        "macro_f1",
        "per_intent",
        "confused_pairs",
        "entities",
        "fallback_rate",
        "out_of_scope_recall",
        "latency_ms",
        "messages_per_second",
    ):
        assert key in report
    assert report["entities"]["amount"]["exact_match"] == 1.0
    assert set(report["latency_ms"]) == {"p50", "p99", "max"}


def test_evaluate_text(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["nlu", "evaluate", SMALL], env=env)
    assert result.exit_code == 0, result.output
    assert "intent accuracy" in result.stdout and "macro-F1" in result.stdout
    assert "p99" in result.stdout and "card_number" in result.stdout


@pytest.fixture
def rasa_server() -> Iterator[RunningServer]:
    with serve_asgi(FakeRasa(intent="greet").app) as server:
        yield server


def test_evaluate_rasa_backend_takes_intents_from_rasa(rasa_server: RunningServer) -> None:
    result = CliRunner().invoke(
        app,
        ["nlu", "evaluate", SMALL, "--json", "--backend", "rasa", "--rasa-url", rasa_server.url],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["backend"] == "rasa"
    assert report["accuracy"] == 0.25  # the fake says "greet" to everything
    assert report["entities"]["card_number"]["exact_match"] == 1.0  # our rules, not Rasa's


def test_evaluate_rasa_down_fails_loudly() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(
        app, ["nlu", "evaluate", SMALL, "--backend", "rasa", "--rasa-url", url]
    )
    assert result.exit_code == 1
    assert "error:" in result.output


def test_train(env: dict[str, str], tmp_path: Path) -> None:
    """On a cut-down copy of the shipped data (NLU_DATA_DIR): the suite trains the full model
    once already (tests/nlu_models.py), and training it again here cost 20 CPU seconds."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    examples, intents = _cut_down_training_data(data, per_intent=4)
    result = CliRunner().invoke(app, ["nlu", "train"], env={
        **env, "NLU_CACHE_DIR": str(cache), "NLU_DATA_DIR": str(data)})
    assert result.exit_code == 0, result.output
    assert f"trained on {examples} examples of {intents} intents" in result.stdout
    assert len(list(cache.glob("embedded-*.pkl"))) == 1
    parsed = CliRunner().invoke(app, ["nlu", "parse"], input="hvor meget har jeg tjent\n", env={
        **env, "NLU_CACHE_DIR": str(cache), "NLU_DATA_DIR": str(data)})
    assert parsed.exit_code == 0, parsed.output
    assert json.loads(parsed.stdout)["intent"]["name"] == "check_balance"


def _cut_down_training_data(folder: Path, *, per_intent: int) -> tuple[int, int]:
    """The shipped training files with the first `per_intent` examples of each intent (and
    every regex, lookup and synonym): (examples, intents)."""
    folder.mkdir()
    examples, intents = 0, set()
    for source in sorted((REPO / "nlu" / "data").glob("*.yml")):
        document = yaml.safe_load(source.read_text("utf-8"))
        for block in document.get("nlu") or []:
            if "intent" in block:
                kept = [line for line in block["examples"].splitlines()
                        if line.strip().startswith("- ")][:per_intent]
                block["examples"] = "\n".join(kept) + "\n"
                examples += len(kept)
                intents.add(block["intent"].split("/")[0])
        (folder / source.name).write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    return examples, len(intents)
