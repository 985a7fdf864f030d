"""A Parser = an intent classifier + the fallback rule + the shared rule-based entity extractors,
plus Rasa's `response_selector` when the classifier also ranks answers (retrieval intents)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from nlu.entities import extract_entities
from nlu.fallback import apply_fallback
from nlu.types import (
    FALLBACK_INTENT,
    IntentClassifier,
    IntentPrediction,
    ParseResult,
    ResponseRanking,
    response_selector,
)

__all__ = ["AnswerClassifier", "ClassifierParser"]


@runtime_checkable
class AnswerClassifier(Protocol):
    """A classifier that ranks intents and the answers within retrieval intents in one pass."""

    retrieval_intents: list[str]

    def classify(self, text: str) -> tuple[list[IntentPrediction], list[ResponseRanking]]: ...


class ClassifierParser:
    """Parses with any IntentClassifier (the embedded model in production, fakes in tests)."""

    def __init__(
        self, classifier: IntentClassifier, *, threshold: float, ambiguity_threshold: float
    ) -> None:
        self.classifier = classifier
        self._answers: AnswerClassifier | None = (
            classifier if isinstance(classifier, AnswerClassifier) else None)
        """Checked once here: a runtime protocol check costs tens of µs per call."""
        self.threshold = threshold
        self.ambiguity_threshold = ambiguity_threshold

    def parse(self, text: str, today: dt.date | None = None) -> ParseResult:
        """Rasa's parse shape for one message; `today` resolves relative dates."""
        answers: list[ResponseRanking] = []
        if self._answers is not None:
            ranking, answers = self._answers.classify(text)
        else:
            ranking = self.classifier.rank(text)
        if ranking:
            intent, ranking = apply_fallback(
                ranking, threshold=self.threshold, ambiguity_threshold=self.ambiguity_threshold
            )
        else:  # nothing to classify (empty or punctuation only)
            intent = IntentPrediction(name=FALLBACK_INTENT, confidence=1.0)
            ranking = [intent]
        result = ParseResult(
            text=text,
            intent=intent,
            intent_ranking=ranking,
            entities=extract_entities(text, today),
        )
        selected = (response_selector(answers, self._answers.retrieval_intents)
                    if self._answers is not None else None)
        if selected is not None:
            result["response_selector"] = selected
        return result
