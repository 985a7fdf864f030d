"""The real training data train a model that meets the targets on the held-out file.

Thresholds sit slightly below the targets in docs/nlu.md (92 % accuracy, 0.90 macro-F1,
90 % out-of-scope recall, 97 % entity exact match) so that small data edits do not flake.
"""

from __future__ import annotations

import time

import pytest

from nlu import INTENTS, extract_entities
from nlu.evaluate import evaluate, load_test_messages
from nlu.parser import ClassifierParser
from nlu.training_data import load_training_data
from tests.nlu.conftest import HELD_OUT, REAL_DATA


def test_training_data_is_clean_and_covers_every_intent() -> None:
    data = load_training_data(REAL_DATA, strict=True)
    assert set(data.intents) == set(INTENTS)


def test_training_annotations_agree_with_the_extractors() -> None:
    """Annotated amount/hours/card_number values are what our rules extract from the same text."""
    data = load_training_data(REAL_DATA)
    checked = {"amount", "hours", "card_number"}
    for example in data.examples:
        annotated = sorted(
            (e.entity, e.value)
            for e in example.entities
            if e.entity in checked and e.value != example.text[e.start : e.end]
        )
        if not annotated:
            continue
        found = sorted(
            (e["entity"], e["value"])
            for e in extract_entities(example.text)
            if e["entity"] in checked
        )
        assert set(annotated) <= set(found), example.text


@pytest.fixture(scope="module")
def report(real_parser: ClassifierParser) -> dict:
    return evaluate(real_parser, load_test_messages(HELD_OUT))


def test_held_out_is_big_enough(report: dict) -> None:
    assert report["messages"] >= 300


def test_intent_accuracy(report: dict) -> None:
    assert report["accuracy"] >= 0.90, report["confused_pairs"]
    assert report["macro_f1"] >= 0.88


def test_out_of_scope_recall(report: dict) -> None:
    assert report["out_of_scope_recall"] >= 0.85


@pytest.mark.parametrize("entity", ["amount", "hours", "card_number"])
def test_entity_exact_match(report: dict, entity: str) -> None:
    assert report["entities"][entity]["exact_match"] >= 0.97


def test_latency(real_parser: ClassifierParser) -> None:
    texts = ["hvormeget har jeg tjent", "indberet 4 timer 600 kr frikort 48213", "saldo?"] * 100
    timings = []
    for text in texts:
        started = time.perf_counter()
        real_parser.parse(text)
        timings.append(time.perf_counter() - started)
    timings.sort()
    # Target: p99 < 5 ms; the bound is looser because the test machine is shared.
    assert timings[len(timings) // 2] < 0.010
