"""Rasa's FallbackClassifier rule: unsure or ambiguous → `nlu_fallback`.

A rule answer to a question nobody asked is worse than "I did not understand", so the bot only
acts on an intent that is both confident and clearly ahead of the runner-up.
"""

from __future__ import annotations

import logging

from nlu.types import FALLBACK_INTENT, IntentPrediction

__all__ = ["apply_fallback", "should_fallback"]

logger = logging.getLogger(__name__)


def _confidence_below_threshold(
    ranking: list[IntentPrediction], threshold: float
) -> tuple[bool, float]:
    top = ranking[0]["confidence"] if ranking else 0.0
    return top < threshold, top


def _prediction_ambiguous(
    ranking: list[IntentPrediction], ambiguity_threshold: float
) -> tuple[bool, float]:
    if len(ranking) < 2:
        return False, 1.0
    margin = ranking[0]["confidence"] - ranking[1]["confidence"]
    return margin < ambiguity_threshold, margin


def should_fallback(
    ranking: list[IntentPrediction], *, threshold: float, ambiguity_threshold: float
) -> bool:
    """True when the top intent is below `threshold` or within `ambiguity_threshold` of the second.

    Args:
        ranking: intents sorted by confidence, highest first.
        threshold: minimum confidence of the top intent.
        ambiguity_threshold: minimum margin between the top two intents.
    """
    below, top = _confidence_below_threshold(ranking, threshold)
    if below:
        logger.debug("NLU fallback: top confidence %.3f below threshold %.3f", top, threshold)
        return True
    ambiguous, margin = _prediction_ambiguous(ranking, ambiguity_threshold)
    if ambiguous:
        logger.debug("NLU fallback: margin %.3f below %.3f", margin, ambiguity_threshold)
    return ambiguous


def apply_fallback(
    ranking: list[IntentPrediction], *, threshold: float, ambiguity_threshold: float
) -> tuple[IntentPrediction, list[IntentPrediction]]:
    """The chosen intent and the ranking; on fallback, `nlu_fallback` is put first in the ranking.

    Like Rasa, the fallback intent's confidence is the threshold itself, and the ranking passed
    in is left unchanged (a new list is returned).
    """
    if not should_fallback(ranking, threshold=threshold, ambiguity_threshold=ambiguity_threshold):
        return ranking[0].copy(), list(ranking)
    fallback = IntentPrediction(name=FALLBACK_INTENT, confidence=threshold)
    return fallback, [fallback, *ranking]
