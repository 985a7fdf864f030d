"""The trained NLU models of the test suite, trained once per machine and shared.

Training the embedded model costs about 20 CPU seconds and the crisis classifier about 7; both
are cached by a fingerprint of the training data, the model version and sklearn's version (a
stale model is never loaded). Every fixture and helper that needs one (the bot's and the
channels' parser, the NLU tests' real parser, the crisis classifier, the servers the fault tests
start) uses the one cache folder below, and a file lock makes concurrent pytest-xdist workers
wait for the one that trains instead of each training its own.

The folder is ``.pytest_cache/d/frikort-nlu-model`` in the checkout, or NLU_TEST_CACHE_DIR.
"""

from __future__ import annotations

import fcntl
import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from bot.crisis import CrisisScorer
from nlu import NluConfig, Parser, load_crisis_classifier, load_embedded_parser, load_parser
from nlu.parser import ClassifierParser

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "nlu" / "data"
CACHE_DIR = Path(os.environ.get("NLU_TEST_CACHE_DIR")
                 or REPO / ".pytest_cache" / "d" / "frikort-nlu-model")
T = TypeVar("T")


@contextmanager
def _one_trainer() -> Iterator[None]:
    """Held while loading (and, the first time, training) a model: one process at a time."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _loaded(load: Callable[[NluConfig], T]) -> T:
    with _one_trainer():
        return load(NluConfig(data_dir=DATA_DIR, cache_dir=CACHE_DIR))


@functools.cache
def parser() -> Parser:
    """The parser the app builds (`nlu.load_parser`), one per process."""
    return _loaded(load_parser)


@functools.cache
def embedded_parser() -> ClassifierParser:
    """The embedded parser (`nlu.load_embedded_parser`), one per process."""
    return _loaded(load_embedded_parser)


@functools.cache
def crisis_classifier() -> CrisisScorer | None:
    """The dedicated crisis classifier, one per process (as the server loads it)."""
    return _loaded(load_crisis_classifier)


def trained_cache_dir() -> Path:
    """The cache folder with both models in it, for apps and servers that load their own
    (NLU_CACHE_DIR): they then only load."""
    parser()
    crisis_classifier()
    return CACHE_DIR
