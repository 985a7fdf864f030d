"""NLU test fixtures: a tiny synthetic dataset, and the real model trained once per session."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from nlu import NluConfig, load_embedded_parser
from nlu.parser import ClassifierParser

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
REAL_DATA = REPO / "nlu" / "data"
HELD_OUT = REPO / "tests" / "nlu" / "test_messages.yml"
MONDAY = dt.date(2026, 11, 23)


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A private copy of the tiny dataset, so a test may edit it."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "tiny", target)
    return target


@pytest.fixture(scope="session")
def real_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nlu-cache")


@pytest.fixture(scope="session")
def real_parser(real_cache_dir: Path) -> ClassifierParser:
    """The embedded parser trained on nlu/data (once per test session)."""
    return load_embedded_parser(NluConfig(data_dir=REAL_DATA, cache_dir=real_cache_dir))
