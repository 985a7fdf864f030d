"""A Parser = an intent classifier + the fallback rule + the shared rule-based entity extractors."""

from __future__ import annotations

import datetime as dt

from nlu.entities import extract_entities
from nlu.fallback import apply_fallback
from nlu.types import FALLBACK_INTENT, IntentClassifier, IntentPrediction, ParseResult

__all__ = ["ClassifierParser"]


class ClassifierParser:
    """Parses with any IntentClassifier (the embedded model in production, fakes in tests)."""

    def __init__(
        self, classifier: IntentClassifier, *, threshold: float, ambiguity_threshold: float
    ) -> None:
        self.classifier = classifier
        self.threshold = threshold
        self.ambiguity_threshold = ambiguity_threshold

    def parse(self, text: str, today: dt.date | None = None) -> ParseResult:
        """Rasa's parse shape for one message; `today` resolves relative dates."""
        ranking = self.classifier.rank(text)
        if ranking:
            intent, ranking = apply_fallback(
                ranking, threshold=self.threshold, ambiguity_threshold=self.ambiguity_threshold
            )
        else:  # nothing to classify (empty or punctuation only)
            intent = IntentPrediction(name=FALLBACK_INTENT, confidence=1.0)
            ranking = [intent]
        return ParseResult(
            text=text,
            intent=intent,
            intent_ranking=ranking,
            entities=extract_entities(text, today),
        )
