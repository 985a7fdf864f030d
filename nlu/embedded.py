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
from nlu.types import IntentPrediction

__all__ = ["EmbeddedClassifier", "data_fingerprint", "load_or_train"]

logger = logging.getLogger(__name__)

MODEL_VERSION = "2"
"""Bump when the features or model change, so caches built by older code are not reused."""
RANKING_LENGTH = 10
"""Intents listed in `intent_ranking`, as Rasa's DIET does by default."""
_CACHE_PREFIX = "embedded-"


class EmbeddedClassifier:
    """A fitted scikit-learn pipeline plus the intent names it ranks."""

    def __init__(self, pipeline: Pipeline, *, fingerprint: str = "") -> None:
        self.pipeline = pipeline
        self.intents: list[str] = [str(c) for c in pipeline.classes_]
        self.fingerprint = fingerprint
        self._scorer: LinearScorer | None = None

    def __getstate__(self) -> dict[str, object]:
        # The scorer holds analyzer closures; it is rebuilt from the pipeline after loading.
        return {**self.__dict__, "_scorer": None}

    def _probabilities(self, text: str) -> list[float]:
        if getattr(self, "_scorer", None) is None:
            try:
                self._scorer = LinearScorer(self.pipeline)
            except TypeError:  # another model kind (see nlu/model.py): the slow path is fine
                return [float(p) for p in self.pipeline.predict_proba([text])[0]]
        return [float(p) for p in self._scorer.predict_proba(text)]

    @classmethod
    def train(
        cls, data: TrainingData, *, kind: str = DEFAULT_MODEL, fingerprint: str = ""
    ) -> EmbeddedClassifier:
        """Fit a pipeline on every example.

        Raises:
            ModelError: there are fewer than two intents to tell apart.
        """
        if len(data.intents) < 2:
            raise ModelError(f"need examples of at least two intents, found {data.intents}")
        pipeline = build_pipeline(kind)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            pipeline.fit([e.text for e in data.examples], [e.intent for e in data.examples])
        return cls(pipeline, fingerprint=fingerprint)

    def rank(self, text: str) -> list[IntentPrediction]:
        """Intents sorted by confidence (probabilities summing to 1), top RANKING_LENGTH only."""
        if not normalize(text):
            return []
        probabilities = self._probabilities(text)
        order = sorted(range(len(probabilities)), key=probabilities.__getitem__, reverse=True)
        return [
            IntentPrediction(name=self.intents[i], confidence=round(probabilities[i], 4))
            for i in order[:RANKING_LENGTH]
        ]


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
