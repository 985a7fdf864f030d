"""A dedicated crisis classifier, beside the bot's phrase patterns (either one is enough).

Trained on crisis phrasings (nlu/crisis_data/crisis.yml: suicide, self-harm, overdose, violence,
cold, hunger, and harmless look-alikes) plus every ordinary example of nlu/data as "not a
crisis", so it learns the everyday messages too. It flags a message only when it is quite sure;
the phrase patterns stay the first line, and it never clears what they found.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import warnings
from pathlib import Path

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from nlu.config import NluConfig
from nlu.fast_linear import LinearScorer
from nlu.normalize import normalize
from nlu.training_data import load_training_data, training_files

__all__ = ["CRISIS_DATA_DIR", "CrisisClassifier", "load_crisis_classifier"]

logger = logging.getLogger(__name__)

CRISIS_DATA_DIR = Path(__file__).resolve().parent / "crisis_data"
PREFIX = "crisis_"
NOT_CRISIS = "not_crisis"
THRESHOLD = 0.9
"""A message is a crisis to the classifier when the crisis kinds together have at least this
probability: high, because the patterns catch the plain cases and false alarms cost trust."""
_VERSION = "1"


class CrisisClassifier:
    """crisis_kind(text) -> "suicide" | "self_harm" | ... | None."""

    def __init__(self, pipeline: Pipeline, *, fingerprint: str = "",
                 threshold: float = THRESHOLD) -> None:
        self.pipeline = pipeline
        self.labels = [str(c) for c in pipeline.classes_]
        self.fingerprint = fingerprint
        self.threshold = threshold
        self._scorer: LinearScorer | None = None

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_scorer": None}

    def probabilities(self, text: str) -> dict[str, float]:
        if self._scorer is None:
            self._scorer = LinearScorer(self.pipeline)
        if not normalize(text):
            return {NOT_CRISIS: 1.0}
        return dict(zip(self.labels, (float(p) for p in self._scorer.predict_proba(text)),
                        strict=True))

    def crisis_kind(self, text: str) -> str | None:
        probabilities = self.probabilities(text)
        if 1.0 - probabilities.get(NOT_CRISIS, 0.0) < self.threshold:
            return None
        best = max((label for label in probabilities if label != NOT_CRISIS),
                   key=probabilities.__getitem__)
        return best.removeprefix(PREFIX)

    @classmethod
    def train(cls, crisis_dir: Path, ordinary_dir: Path, *, fingerprint: str = "",
              threshold: float = THRESHOLD) -> CrisisClassifier:
        crisis = load_training_data(crisis_dir)
        ordinary = load_training_data(ordinary_dir)
        texts = [e.text for e in crisis.examples] + [e.text for e in ordinary.examples]
        labels = [e.intent for e in crisis.examples] + [NOT_CRISIS] * len(ordinary.examples)
        pipeline = Pipeline([
            ("features", FeatureUnion([
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
                                          preprocessor=normalize, sublinear_tf=True)),
                ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2),
                                          preprocessor=normalize, sublinear_tf=True,
                                          token_pattern=r"(?u)\b\w+\b")),
            ])),
            ("classifier", LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")),
        ])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            pipeline.fit(texts, labels)
        return cls(pipeline, fingerprint=fingerprint, threshold=threshold)


def _fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256(f"crisis{_VERSION}|{sklearn.__version__}".encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def load_crisis_classifier(config: NluConfig,
                           crisis_dir: Path = CRISIS_DATA_DIR) -> CrisisClassifier | None:
    """The cached classifier for the current data, trained when the data changed; None when
    there is no crisis data (the phrase patterns then work alone)."""
    files = training_files(crisis_dir) + training_files(config.data_dir)
    if not training_files(crisis_dir):
        return None
    fingerprint = _fingerprint(files)
    path = config.cache_dir / f"crisis-{fingerprint}.pkl"
    try:
        with path.open("rb") as handle:
            cached = pickle.load(handle)  # our own cache file, written below
        if isinstance(cached, CrisisClassifier) and cached.fingerprint == fingerprint:
            cached.threshold = THRESHOLD  # a setting of ours, not part of the trained model
            return cached
    except FileNotFoundError:
        pass
    except Exception as exc:  # a truncated or incompatible cache is rebuilt, not fatal
        logger.warning("Ignoring unreadable crisis model cache: %s", type(exc).__name__)
    classifier = CrisisClassifier.train(crisis_dir, config.data_dir, fingerprint=fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as written:
        pickle.dump(classifier, written, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(written.name, path)
    for stale in path.parent.glob("crisis-*.pkl"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return classifier
