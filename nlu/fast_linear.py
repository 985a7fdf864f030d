"""Scoring one message with the fitted TF-IDF + LogisticRegression, without sklearn's overhead.

`pipeline.predict_proba([text])` spends most of its ~2 ms on input validation and sparse-matrix
plumbing built for batches. For one SMS we only need the handful of n-grams present in it: look
them up, weight them exactly as TfidfVectorizer does (sublinear tf × idf, L2 per vectoriser), take
the matching rows of the coefficient matrix and a softmax. The tests check the result equals
predict_proba.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

__all__ = ["LinearScorer"]


@dataclass(frozen=True)
class _Block:
    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    sublinear: bool


class LinearScorer:
    """Probabilities equal to `pipeline.predict_proba([text])[0]`, computed for one text."""

    def __init__(self, pipeline: Pipeline) -> None:
        features, classifier = pipeline.named_steps["features"], pipeline.named_steps["classifier"]
        if not isinstance(features, FeatureUnion) or not isinstance(classifier, LogisticRegression):
            raise TypeError(
                "LinearScorer needs FeatureUnion(TfidfVectorizer...) + LogisticRegression"
            )
        blocks, offset = [], 0
        for _, vectorizer in features.transformer_list:
            if not isinstance(vectorizer, TfidfVectorizer) or vectorizer.norm != "l2":
                raise TypeError("LinearScorer needs L2-normalised TfidfVectorizers")
            blocks.append(
                _Block(
                    vectorizer.build_analyzer(),
                    vectorizer.vocabulary_,
                    vectorizer.idf_,
                    offset,
                    vectorizer.sublinear_tf,
                )
            )
            offset += len(vectorizer.vocabulary_)
        self._blocks = blocks
        self._weights = np.ascontiguousarray(classifier.coef_.T)  # (features, classes)
        self._intercept = classifier.intercept_.copy()

    def features(self, text: str) -> tuple[list[int], np.ndarray]:
        """The message's non-zero feature columns and values (shared by every scorer built on
        the same fitted features, so a second classifier costs one more dot product)."""
        return self._features(text)

    def _features(self, text: str) -> tuple[list[int], np.ndarray]:
        columns: list[int] = []
        values: list[np.ndarray] = []
        for block in self._blocks:
            counts = Counter(t for t in block.analyzer(text) if t in block.vocabulary)
            if not counts:
                continue
            ids = np.fromiter((block.vocabulary[t] for t in counts), dtype=np.intp)
            tf = np.fromiter(counts.values(), dtype=float)
            weights = (1.0 + np.log(tf) if block.sublinear else tf) * block.idf[ids]
            weights /= np.sqrt(weights @ weights)
            columns.extend((ids + block.offset).tolist())
            values.append(weights)
        return columns, np.concatenate(values) if values else np.zeros(0)

    def predict_proba(self, text: str) -> np.ndarray:
        return self.proba_of(*self._features(text))

    def proba_of(self, columns: list[int], values: np.ndarray) -> np.ndarray:
        scores = values @ self._weights[columns] + self._intercept
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()
