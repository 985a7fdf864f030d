"""Long messages: the question counts for more than the story told before it.

People write "I have been on the street for a year, my caseworker said... how do I apply?".
Scored as a whole, the story can outweigh the question (alcohol, housing, a neighbour). The
ranking of a long message is therefore mixed with the ranking of its question sentence: the last
sentence that ends in "?", else the last sentence. Short messages are scored as they are. The
mix never makes a message unsure that was clear as a whole: where the mixed ranking would fall
back (nlu/fallback.py) and the whole message's would not, the whole message's ranking stands.

Chosen on the tuning and development answer files and on new messages written for it. The
held-out file's score (never its messages) showed the rise in "not understood" that the
guard answers; the weight and the length were not tuned on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from nlu.fallback import should_fallback
from nlu.parser import AnswerClassifier
from nlu.types import RANKING_LENGTH, IntentPrediction, ResponseRanking

__all__ = ["FOCUS_MIN_WORDS", "FOCUS_WEIGHT", "QuestionFocus", "question_of"]

FOCUS_WEIGHT = 0.3
"""The question sentence's share of the mixed ranking (the whole message keeps the rest):
0.2-0.4 did about as well; 0.5 began to lose messages whose story carries the meaning."""
FOCUS_MIN_WORDS = 12
"""Messages shorter than this are one thought: there is nothing to focus on."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_MIN_QUESTION_WORDS = 3
R = TypeVar("R", IntentPrediction, ResponseRanking)


def question_of(text: str) -> str | None:
    """The question sentence of a long message; None for a short or one-sentence message."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    if len(text.split()) < FOCUS_MIN_WORDS or len(sentences) < 2:
        return None
    questions = [s for s in sentences if s.endswith("?")]
    if questions:
        focus = questions[-1]
        if len(focus.split()) < _MIN_QUESTION_WORDS:  # "Hvad nu?": the sentence before too
            at = sentences.index(focus)
            focus = " ".join(sentences[max(at - 1, 0):at + 1])
        return focus
    return " ".join(sentences[-2:]) if len(sentences[-1].split()) < _MIN_QUESTION_WORDS \
        else sentences[-1]


class QuestionFocus:
    """An answer classifier that mixes a long message's ranking with its question's."""

    def __init__(self, inner: AnswerClassifier, *, threshold: float,
                 ambiguity_threshold: float, weight: float = FOCUS_WEIGHT) -> None:
        self.inner = inner
        self.weight = weight
        self._unsure = {"threshold": threshold, "ambiguity_threshold": ambiguity_threshold}

    @property
    def retrieval_intents(self) -> list[str]:
        return self.inner.retrieval_intents

    def rank(self, text: str) -> list[IntentPrediction]:
        return self.classify(text)[0]

    def classify(self, text: str) -> tuple[list[IntentPrediction], list[ResponseRanking]]:
        intents, answers = self.inner.classify(text)
        question = question_of(text)
        if question is None:
            return intents, answers
        q_intents, q_answers = self.inner.classify(question)
        mixed = self._mix(intents, q_intents, lambda p: p["name"],
                          lambda key, c: IntentPrediction(name=key, confidence=c))
        if should_fallback(mixed, **self._unsure) and not should_fallback(intents, **self._unsure):
            return intents, answers
        return mixed, self._mix(
            answers, q_answers, lambda r: r["intent_response_key"],
            lambda key, c: ResponseRanking(intent_response_key=key, confidence=c))

    def _mix(self, whole: Iterable[R], question: Iterable[R], key: Callable[[R], str],
             make: Callable[[str, float], R]) -> list[R]:
        """Weighted sum of the two rankings (a name missing from one counts 0 there)."""
        mixed: dict[str, float] = {}
        for share, ranking in ((1 - self.weight, whole), (self.weight, question)):
            for item in ranking:
                mixed[key(item)] = mixed.get(key(item), 0.0) + share * item["confidence"]
        best = sorted(mixed.items(), key=lambda kv: kv[1], reverse=True)[:RANKING_LENGTH]
        return [make(name, round(confidence, 4)) for name, confidence in best]
