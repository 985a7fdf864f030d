"""The embedded classifier on the tiny synthetic dataset: trains, classifies, caches, retrains."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu import FALLBACK_INTENT, ModelError, NluConfig, load_embedded_parser, load_parser
from nlu.embedded import EmbeddedClassifier, load_or_train
from nlu.training_data import load_training_data
from tests.nlu.conftest import MONDAY


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hej med dig", "greet"),
        ("HEJSA", "greet"),
        ("tak for hjaelpen", "thanks"),
        ("indberet 5 timer 700 kr frikort 41234", "employer_report_wage"),
    ],
)
def test_trains_and_classifies(tiny_data: Path, tmp_path: Path, text: str, intent: str) -> None:
    parser = load_embedded_parser(NluConfig(data_dir=tiny_data, cache_dir=tmp_path / "cache"))
    result = parser.parse(text, MONDAY)
    assert result["intent"]["name"] == intent
    assert result["intent_ranking"][0]["name"] == intent
    assert set(result) == {"text", "intent", "intent_ranking", "entities"}
    confidences = [r["confidence"] for r in result["intent_ranking"]]
    assert confidences == sorted(confidences, reverse=True)
    assert abs(sum(confidences) - 1.0) < 0.01


def test_parse_shape_with_entities(tiny_data: Path, tmp_path: Path) -> None:
    parser = load_parser(NluConfig(data_dir=tiny_data, cache_dir=tmp_path))
    result = parser.parse("indberet 4 timer 600 kr frikort 48213", MONDAY)
    assert result["text"] == "indberet 4 timer 600 kr frikort 48213"
    assert [(e["entity"], e["value"]) for e in result["entities"]] == [
        ("hours", "4"),
        ("amount", "600.00"),
        ("card_number", "48213"),
    ]


def test_blank_message_falls_back(tiny_data: Path, tmp_path: Path) -> None:
    parser = load_embedded_parser(NluConfig(data_dir=tiny_data, cache_dir=tmp_path))
    assert parser.parse("  ...  ")["intent"]["name"] == FALLBACK_INTENT


def test_threshold_one_always_falls_back(tiny_data: Path, tmp_path: Path) -> None:
    config = NluConfig(data_dir=tiny_data, cache_dir=tmp_path, threshold=1.0)
    result = load_embedded_parser(config).parse("hej")
    assert result["intent"] == {"name": FALLBACK_INTENT, "confidence": 1.0}
    assert result["intent_ranking"][1]["name"] == "greet"


def test_cache_is_reused(tiny_data: Path, tmp_path: Path) -> None:
    first = load_or_train(tiny_data, tmp_path)
    cached = list(tmp_path.glob("embedded-*.pkl"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    second = load_or_train(tiny_data, tmp_path)
    assert second is not first  # loaded from disk, not retrained in memory
    assert second.fingerprint == first.fingerprint
    assert cached[0].stat().st_mtime_ns == mtime
    assert second.rank("hej") == first.rank("hej")


def test_retrains_when_data_change(tiny_data: Path, tmp_path: Path) -> None:
    before = load_or_train(tiny_data, tmp_path)
    assert "goodbye" not in before.intents
    (tiny_data / "goodbye.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: goodbye\n  examples: |\n'
        "    - farvel\n    - vi ses\n    - hav en god dag\n    - farvel og tak\n",
        encoding="utf-8",
    )
    after = load_or_train(tiny_data, tmp_path)
    assert after.fingerprint != before.fingerprint
    assert "goodbye" in after.intents
    assert [p.name for p in tmp_path.glob("embedded-*.pkl")] == [
        f"embedded-{after.fingerprint}.pkl"
    ]


def test_force_retrains(tiny_data: Path, tmp_path: Path) -> None:
    load_or_train(tiny_data, tmp_path)
    path = next(tmp_path.glob("embedded-*.pkl"))
    mtime = path.stat().st_mtime_ns
    load_or_train(tiny_data, tmp_path, force=True)
    assert path.stat().st_mtime_ns != mtime


def test_corrupt_cache_is_rebuilt(tiny_data: Path, tmp_path: Path) -> None:
    model = load_or_train(tiny_data, tmp_path)
    path = next(tmp_path.glob("embedded-*.pkl"))
    path.write_bytes(b"not a pickle")
    rebuilt = load_or_train(tiny_data, tmp_path)
    assert rebuilt.fingerprint == model.fingerprint
    assert rebuilt.rank("tak")[0]["name"] == "thanks"


def test_no_data_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no training files"):
        load_or_train(tmp_path, tmp_path / "cache")


def test_one_intent_is_not_enough(tiny_data: Path) -> None:
    data = load_training_data(tiny_data)
    data.examples = [e for e in data.examples if e.intent == "greet"]
    with pytest.raises(ModelError, match="at least two intents"):
        EmbeddedClassifier.train(data)
