"""The default intent classifier: in-process, trained from nlu/data in seconds, cached by hash."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import time
import warnings
from pathlib import Path

import sklearn
from sklearn.pipeline import Pipeline

from nlu.errors import ModelError
from nlu.fast_linear import LinearScorer
from nlu.model import DEFAULT_MODEL, build_pipeline
from nlu.normalize import normalize
from nlu.training_data import TrainingData, load_training_data, training_files
from nlu.types import RANKING_LENGTH, IntentPrediction, ResponseRanking

__all__ = ["EmbeddedClassifier", "data_fingerprint", "load_or_train"]

logger = logging.getLogger(__name__)

MODEL_VERSION = "3"
"""Bump when the features or model change, so caches built by older code are not reused."""
_CACHE_PREFIX = "embedded-"


class EmbeddedClassifier:
    """A fitted scikit-learn pipeline plus the intent names it ranks, and a response selector
    (the answer within a retrieval intent) on the same features.

    Like Rasa, the intent model learns a retrieval intent's examples under the base intent
    ("faq_limit"), and one selector for all retrieval intents learns the full keys
    ("faq_limit/what_counts"): Rasa's ResponseSelector without `retrieval_intent` set.
    """

    def __init__(
        self, pipeline: Pipeline, *, fingerprint: str = "", selector: Pipeline | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.intents: list[str] = [str(c) for c in pipeline.classes_]
        self.selector = selector
        self.response_keys: list[str] = (
            [str(c) for c in selector.classes_] if selector is not None else [])
        self.retrieval_intents: list[str] = sorted({k.split("/")[0] for k in self.response_keys})
        self.fingerprint = fingerprint
        self._scorer: LinearScorer | None = None
        self._selector_scorer: LinearScorer | None = None

    def __getstate__(self) -> dict[str, object]:
        # The scorers hold analyzer closures; they are rebuilt from the pipelines after loading.
        return {**self.__dict__, "_scorer": None, "_selector_scorer": None}

    @classmethod
    def train(
        cls, data: TrainingData, *, kind: str = DEFAULT_MODEL, fingerprint: str = ""
    ) -> EmbeddedClassifier:
        """Fit a pipeline on every example, and the response selector on the examples of the
        retrieval intents (when there are answers to tell apart).

        Raises:
            ModelError: there are fewer than two intents to tell apart.
        """
        if len(data.intents) < 2:
            raise ModelError(f"need examples of at least two intents, found {data.intents}")
        pipeline = build_pipeline(kind)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            pipeline.fit([e.text for e in data.examples], [e.intent for e in data.examples])
        return cls(pipeline, fingerprint=fingerprint,
                   selector=_train_selector(pipeline, data, kind))

    def rank(self, text: str) -> list[IntentPrediction]:
        """Intents sorted by confidence (probabilities summing to 1), top RANKING_LENGTH only."""
        return self.classify(text)[0]

    def classify(self, text: str) -> tuple[list[IntentPrediction], list[ResponseRanking]]:
        """The intent ranking and the response ranking, from one pass over the features."""
        if not normalize(text):
            return [], []
        scorers = self._scorers()
        if scorers is None:  # another model kind (see nlu/model.py): the slow path is fine
            intents = [float(p) for p in self.pipeline.predict_proba([text])[0]]
            answers = ([float(p) for p in self.selector.predict_proba([text])[0]]
                       if self.selector is not None else [])
        else:
            scorer, selector = scorers
            features = scorer.features(text)
            intents = [float(p) for p in scorer.proba_of(*features)]
            answers = [float(p) for p in selector.proba_of(*features)] if selector else []
        return (
            [IntentPrediction(name=self.intents[i], confidence=round(intents[i], 4))
             for i in _top(intents)],
            [ResponseRanking(intent_response_key=self.response_keys[i],
                             confidence=round(answers[i], 4))
             for i in _top(answers)],
        )

    def _scorers(self) -> tuple[LinearScorer, LinearScorer | None] | None:
        if getattr(self, "_scorer", None) is None:
            try:
                self._scorer = LinearScorer(self.pipeline)
                self._selector_scorer = (LinearScorer(self.selector)
                                         if self.selector is not None else None)
            except TypeError:
                return None
        assert self._scorer is not None
        return self._scorer, self._selector_scorer


def _top(probabilities: list[float]) -> list[int]:
    order = sorted(range(len(probabilities)), key=probabilities.__getitem__, reverse=True)
    return order[:RANKING_LENGTH]


def _train_selector(pipeline: Pipeline, data: TrainingData, kind: str) -> Pipeline | None:
    """A classifier over the response keys, on the intent model's fitted features."""
    examples = [e for e in data.examples if e.response_key]
    if len({e.response_key for e in examples}) < 2:
        return None
    features = pipeline.named_steps["features"]
    classifier = build_pipeline(kind).named_steps["classifier"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        classifier.fit(features.transform([e.text for e in examples]),
                       [e.response_key for e in examples])
    return Pipeline([("features", features), ("classifier", classifier)])


def data_fingerprint(files: list[Path]) -> str:
    """A hash of the training files (names and bytes), our model version and sklearn's version."""
    digest = hashlib.sha256(f"{MODEL_VERSION}|{sklearn.__version__}".encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _load_cached(path: Path, fingerprint: str) -> EmbeddedClassifier | None:
    try:
        with path.open("rb") as handle:
            classifier = pickle.load(handle)  # our own cache file, written below
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or incompatible cache is rebuilt, not fatal
        logger.warning("Ignoring unreadable NLU model cache %s: %s", path.name, type(exc).__name__)
        return None
    if not isinstance(classifier, EmbeddedClassifier) or classifier.fingerprint != fingerprint:
        return None
    return classifier


def _save(classifier: EmbeddedClassifier, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a concurrent reader never sees half a file.
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as handle:
        pickle.dump(classifier, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(handle.name, path)
    for stale in path.parent.glob(f"{_CACHE_PREFIX}*.pkl"):
        if stale != path:
            stale.unlink(missing_ok=True)


def load_or_train(data_dir: Path, cache_dir: Path, *, force: bool = False) -> EmbeddedClassifier:
    """The cached model for the current data, training (and caching) it when the data changed.

    Args:
        data_dir: directory of Rasa-format training files.
        cache_dir: where models are cached, one file per data fingerprint.
        force: retrain even when a cached model matches (`frikort nlu train`).

    Raises:
        ModelError: no training files, or too few intents.
        TrainingDataError: a training file is not valid YAML.
    """
    files = training_files(data_dir)
    if not files:
        raise ModelError(f"no training files (*.yml) in {data_dir}")
    fingerprint = data_fingerprint(files)
    path = cache_dir / f"{_CACHE_PREFIX}{fingerprint}.pkl"
    if not force and (cached := _load_cached(path, fingerprint)) is not None:
        return cached
    started = time.perf_counter()
    classifier = EmbeddedClassifier.train(load_training_data(files), fingerprint=fingerprint)
    logger.info(
        "Trained NLU model on %d files in %.1f s", len(files), time.perf_counter() - started
    )
    _save(classifier, path)
    return classifier
