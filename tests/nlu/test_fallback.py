"""The FallbackClassifier table, in the spirit of Rasa's own test_fallback_classifier."""

from __future__ import annotations

import copy

import pytest

from nlu import FALLBACK_INTENT, IntentPrediction, NluConfig
from nlu.config import DEFAULT_AMBIGUITY_THRESHOLD, DEFAULT_THRESHOLD
from nlu.fallback import apply_fallback, should_fallback


def ranking(*confidences: float) -> list[IntentPrediction]:
    return [IntentPrediction(name=f"intent_{i}", confidence=c) for i, c in enumerate(confidences)]


@pytest.mark.parametrize(
    ("confidences", "threshold", "ambiguity", "falls_back"),
    [
        ((0.9, 0.05), 0.3, 0.1, False),
        ((0.29, 0.2), 0.3, 0.0, True),  # below the threshold
        ((0.3, 0.1), 0.3, 0.1, False),  # exactly at the threshold is enough
        ((0.5, 0.45), 0.3, 0.1, True),  # confident but ambiguous
        ((0.6, 0.4), 0.3, 0.1, False),  # a clear margin
        ((0.5, 0.45), 0.3, 0.0, False),  # ambiguity check switched off
        ((0.1,), 0.0, 0.1, False),  # a single intent cannot be ambiguous
        ((0.0,), 0.0, 0.0, False),
        ((1.0, 0.0), 1.0, 1.0, False),  # at both limits: not below either
        ((0.99, 0.0), 1.0, 0.0, True),
    ],
)
def test_fallback_table(
    confidences: tuple[float, ...], threshold: float, ambiguity: float, falls_back: bool
) -> None:
    assert (
        should_fallback(ranking(*confidences), threshold=threshold, ambiguity_threshold=ambiguity)
        is falls_back
    )


def test_fallback_puts_nlu_fallback_first_with_the_threshold_as_confidence() -> None:
    original = ranking(0.2, 0.1)
    before = copy.deepcopy(original)
    intent, new_ranking = apply_fallback(original, threshold=0.3, ambiguity_threshold=0.1)
    assert intent == {"name": FALLBACK_INTENT, "confidence": 0.3}
    assert new_ranking == [intent, *before]
    assert original == before


def test_confident_prediction_is_unchanged() -> None:
    original = ranking(0.8, 0.1)
    before = copy.deepcopy(original)
    intent, new_ranking = apply_fallback(original, threshold=0.3, ambiguity_threshold=0.1)
    assert intent == before[0]
    assert new_ranking == before == original


def test_defaults() -> None:
    config = NluConfig()
    assert (config.threshold, config.ambiguity_threshold) == (
        DEFAULT_THRESHOLD,
        DEFAULT_AMBIGUITY_THRESHOLD,
    )
    assert 0.0 < config.threshold < 1.0 and 0.0 <= config.ambiguity_threshold <= 0.2


@pytest.mark.parametrize(
    "kwargs",
    [{"backend": "spacy"}, {"backend": "rasa"}, {"threshold": 1.5}, {"ambiguity_threshold": -0.1}],
)
def test_config_refuses_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        NluConfig(**kwargs)  # type: ignore[arg-type]  # the nonsense is the test
