"""NLU configuration: a plain value built by the composition root (api/), not read from env here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Backend = Literal["embedded", "rasa"]

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"

# Chosen by cross-validation on nlu/data (docs/nlu.md, "Choosing the fallback thresholds"): the
# setting with the best macro-F1, i.e. the fewest answers to a question that was not asked.
DEFAULT_THRESHOLD = 0.25
# Half of Rasa's default 0.1: in the same sweep 0.1 sent 2.4 % more good answers to the fallback.
DEFAULT_AMBIGUITY_THRESHOLD = 0.05


@dataclass(frozen=True)
class NluConfig:
    """What the NLU needs to know; every field has a working default for `make run`."""

    backend: Backend = "embedded"
    """"embedded" (in-process scikit-learn model) or "rasa" (a Rasa server's /model/parse)."""
    data_dir: Path = field(default=DEFAULT_DATA_DIR)
    """Directory of Rasa 3.x NLU training files (*.yml); the model is trained from these."""
    cache_dir: Path = field(default=Path("var/nlu-cache"))
    """Where the trained embedded model is cached, keyed by a hash of the data files."""
    rasa_url: str | None = None
    """Base URL of the Rasa server, e.g. http://127.0.0.1:5005 (required when backend is "rasa")."""
    rasa_timeout_s: float = 2.0
    """Per-request timeout: an SMS reply must not wait on a stuck Rasa; we fall back instead."""
    threshold: float = DEFAULT_THRESHOLD
    """Top intent confidence below this → nlu_fallback (Rasa's FallbackClassifier `threshold`)."""
    ambiguity_threshold: float = DEFAULT_AMBIGUITY_THRESHOLD
    """Top-two confidence margin below this → nlu_fallback (Rasa's `ambiguity_threshold`)."""
    rasa_retry_after_s: float = 30.0
    """After a Rasa failure, use the embedded model for this long before trying Rasa again."""

    def __post_init__(self) -> None:
        if self.backend not in ("embedded", "rasa"):
            raise ValueError(
                f"unknown NLU backend {self.backend!r} (expected 'embedded' or 'rasa')"
            )
        if self.backend == "rasa" and not self.rasa_url:
            raise ValueError("NLU backend 'rasa' needs rasa_url (RASA_URL)")
        if not 0.0 <= self.threshold <= 1.0 or not 0.0 <= self.ambiguity_threshold <= 1.0:
            raise ValueError("threshold and ambiguity_threshold must lie in [0, 1]")
        # Accept plain strings from settings without making every caller wrap them.
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
