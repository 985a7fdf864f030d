from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nlu
from nlu.embedded import load_or_train
from nlu.fast_linear import LinearScorer
from nlu.model import build_pipeline
from tests.nlu.conftest import FIXTURES, REPO


def test_exports() -> None:
    assert nlu.__all__ == sorted(nlu.__all__)
    for name in (
        "NluConfig",
        "load_parser",
        "INTENTS",
        "FALLBACK_INTENT",
        "extract_entities",
        "redact_cpr",
        "ParseResult",
        "Parser",
    ):
        assert name in nlu.__all__
    assert nlu.FALLBACK_INTENT == "nlu_fallback"
    assert len(nlu.INTENTS) == len(set(nlu.INTENTS)) == 29


def test_nlu_imports_none_of_our_other_packages() -> None:
    code = (
        "import sys, nlu, nlu.evaluate, nlu.crossval; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'ledger', 'bot', 'api'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("text", ["hej", "indberet 4 timer 600 kr", "", "qqq zzz", "TAK!!! 🙏"])
def test_fast_scorer_equals_predict_proba(tmp_path: Path, text: str) -> None:
    pipeline = load_or_train(FIXTURES / "tiny", tmp_path).pipeline
    fast = LinearScorer(pipeline).predict_proba(text)
    assert np.allclose(fast, pipeline.predict_proba([text])[0], atol=1e-9)


def test_fast_scorer_refuses_other_models() -> None:
    with pytest.raises(TypeError):
        LinearScorer(build_pipeline("nb"))
