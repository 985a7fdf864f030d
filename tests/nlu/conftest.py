"""NLU test fixtures: a tiny synthetic dataset, and the real model (trained once per machine)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from nlu.parser import ClassifierParser
from tests import nlu_models

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
def real_cache_dir() -> Path:
    """The folder holding the trained models (tests/nlu_models.py)."""
    return nlu_models.trained_cache_dir()


@pytest.fixture(scope="session")
def real_parser() -> ClassifierParser:
    """The embedded parser trained on nlu/data (once per machine: tests/nlu_models.py)."""
    return nlu_models.embedded_parser()
