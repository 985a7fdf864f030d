"""Model and threshold selection by cross-validation on the training data (never the held-out set).

`frikort nlu cross-validate` prints, for each candidate model, out-of-fold accuracy and macro-F1,
the training time, and a sweep of fallback thresholds scored the way the evaluation scores them.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from nlu.evaluate import OUT_OF_SCOPE
from nlu.model import MODELS, build_pipeline
from nlu.training_data import TrainingData

__all__ = ["compare_models", "out_of_fold_probabilities", "sweep_thresholds"]

THRESHOLDS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
AMBIGUITIES = (0.0, 0.05, 0.1, 0.15, 0.2)


def out_of_fold_probabilities(
    data: TrainingData, kind: str, *, folds: int = 5, seed: int = 0
) -> tuple[np.ndarray, list[str], list[str], float]:
    """Probabilities for every example from a model that did not see it, plus mean fit time."""
    texts = [e.text for e in data.examples]
    labels = [e.intent for e in data.examples]
    classes = sorted(set(labels))
    probabilities = np.zeros((len(texts), len(classes)))
    fit_seconds = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(texts, labels):
        pipeline = build_pipeline(kind)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipeline.fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        fit_seconds.append(time.perf_counter() - started)
        columns = [classes.index(c) for c in pipeline.classes_]
        probabilities[np.ix_(test_idx, columns)] = pipeline.predict_proba(
            [texts[i] for i in test_idx]
        )
    return probabilities, classes, labels, float(np.mean(fit_seconds))


def _score(
    probabilities: np.ndarray,
    classes: list[str],
    labels: list[str],
    threshold: float,
    ambiguity: float,
) -> dict[str, float]:
    order = np.argsort(-probabilities, axis=1)
    top = probabilities[np.arange(len(labels)), order[:, 0]]
    second = probabilities[np.arange(len(labels)), order[:, 1]]
    fallback = (top < threshold) | (top - second < ambiguity)
    predicted = [
        (OUT_OF_SCOPE if labels[i] == OUT_OF_SCOPE else "nlu_fallback")
        if fallback[i]
        else classes[order[i, 0]]
        for i in range(len(labels))
    ]
    oos = [i for i, label in enumerate(labels) if label == OUT_OF_SCOPE]
    in_scope = [i for i, label in enumerate(labels) if label != OUT_OF_SCOPE]
    return {
        "threshold": threshold,
        "ambiguity": ambiguity,
        "accuracy": float(np.mean([p == t for p, t in zip(predicted, labels, strict=True)])),
        "macro_f1": float(
            f1_score(labels, predicted, labels=classes, average="macro", zero_division=0)
        ),
        "oos_recall": float(np.mean([predicted[i] == OUT_OF_SCOPE for i in oos])) if oos else 0.0,
        "in_scope_fallback": float(np.mean(fallback[in_scope])) if in_scope else 0.0,
    }


def sweep_thresholds(
    probabilities: np.ndarray, classes: list[str], labels: list[str]
) -> list[dict[str, float]]:
    """Scores for every (threshold, ambiguity) pair, best accuracy first."""
    rows = [_score(probabilities, classes, labels, t, a) for t in THRESHOLDS for a in AMBIGUITIES]
    return sorted(rows, key=lambda r: (-r["accuracy"], -r["oos_recall"]))


def compare_models(data: TrainingData, *, folds: int = 5) -> list[dict[str, Any]]:
    """Out-of-fold accuracy and macro-F1 (no fallback) and fit time of every candidate model."""
    rows = []
    for kind in MODELS:
        probabilities, classes, labels, fit_s = out_of_fold_probabilities(data, kind, folds=folds)
        plain = _score(probabilities, classes, labels, 0.0, 0.0)
        rows.append(
            {
                "model": kind,
                "accuracy": plain["accuracy"],
                "macro_f1": plain["macro_f1"],
                "fit_seconds": fit_s,
                "sweep": sweep_thresholds(probabilities, classes, labels),
            }
        )
    return rows
