"""The embedded model's candidates: TF-IDF over Danish-normalised character and word n-grams.

Character n-grams inside word boundaries survive SMS typos and Danish compounds ("frikortet",
"frikorts"); word n-grams keep short decisive phrases ("hvor meget", "må jeg"). The linear model
choice was made by cross-validation (docs/nlu.md); the others stay here to rerun the comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from nlu.normalize import normalize

__all__ = ["DEFAULT_MODEL", "MODELS", "build_pipeline"]

DEFAULT_MODEL = "logreg"


def _features() -> FeatureUnion:
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        preprocessor=normalize,
        sublinear_tf=True,
        min_df=1,
        dtype=float,
    )
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        preprocessor=normalize,
        sublinear_tf=True,
        token_pattern=r"(?u)\b\w+\b|[?!]",
        dtype=float,
    )
    return FeatureUnion([("chars", chars), ("words", words)])


def _logreg() -> Any:
    # Large C: the data are small and clean, and TF-IDF rows are already L2-normalised.
    return LogisticRegression(C=20.0, max_iter=3000, class_weight="balanced")


def _svc() -> Any:
    # LinearSVC has no probabilities; sigmoid calibration gives them (3 internal folds).
    return CalibratedClassifierCV(LinearSVC(C=0.5, class_weight="balanced"), method="sigmoid", cv=3)


def _nb() -> Any:
    return ComplementNB(alpha=0.3)


MODELS: dict[str, Callable[[], Any]] = {"logreg": _logreg, "svc": _svc, "nb": _nb}


def build_pipeline(kind: str = DEFAULT_MODEL) -> Pipeline:
    """A fresh, untrained pipeline of the given kind ("logreg", "svc" or "nb")."""
    if kind not in MODELS:
        raise ValueError(f"unknown model {kind!r}; choose one of {sorted(MODELS)}")
    return Pipeline([("features", _features()), ("classifier", MODELS[kind]())])
