"""Danish NLU for Frikort-assistenten: intents and entities in Rasa's parse shape.

Design overview: Rasa-format training data (nlu/data/*.yml) is read by `training_data`; an
in-process scikit-learn model (`embedded`) or a Rasa server (`rasa_http`) ranks intents; the
FallbackClassifier rule (`fallback`) turns unsure answers into `nlu_fallback`; rule-based
extractors (`entities`) find amounts, hours, dates, card numbers, CVR, phone and CPR numbers.
This package imports nothing else of ours (no ledger, bot or api).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nlu.config import NluConfig
from nlu.entities import extract_entities, join_spelled_card_numbers, read_number, redact_cpr
from nlu.errors import ModelError, NluError, RasaUnavailable, TrainingDataError
from nlu.normalize import fold_for_matching
from nlu.types import (
    ENTITY_TYPES,
    FALLBACK_INTENT,
    INTENTS,
    Entity,
    IntentClassifier,
    IntentPrediction,
    Parser,
    ParseResult,
    ResponseRanking,
    ResponseSelectorResult,
)

if TYPE_CHECKING:
    from nlu.crisis import CrisisClassifier
    from nlu.embedded import EmbeddedClassifier
    from nlu.parser import ClassifierParser
    from nlu.rasa_http import RasaHttpParser

# scikit-learn takes over a second to import: the model modules load on first use, so the
# CLI, the REST API and the bot's imports stay fast.
_LAZY = {
    "CrisisClassifier": "nlu.crisis",
    "load_crisis_classifier": "nlu.crisis",
    "EmbeddedClassifier": "nlu.embedded",
    "ClassifierParser": "nlu.parser",
    "RasaHttpParser": "nlu.rasa_http",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nlu' has no attribute {name!r}")


__all__ = [
    "ClassifierParser",
    "CrisisClassifier",
    "ENTITY_TYPES",
    "EmbeddedClassifier",
    "Entity",
    "FALLBACK_INTENT",
    "INTENTS",
    "IntentClassifier",
    "IntentPrediction",
    "ModelError",
    "NluConfig",
    "NluError",
    "ParseResult",
    "Parser",
    "RasaHttpParser",
    "RasaUnavailable",
    "ResponseRanking",
    "ResponseSelectorResult",
    "TrainingDataError",
    "extract_entities",
    "fold_for_matching",
    "join_spelled_card_numbers",
    "load_crisis_classifier",
    "load_embedded_parser",
    "load_parser",
    "read_number",
    "redact_cpr",
]


def load_embedded_parser(config: NluConfig, *, force_train: bool = False) -> ClassifierParser:
    """The embedded parser, trained now if the cached model does not match the data; a long
    message's question sentence weighs extra (nlu/focus.py)."""
    from nlu.embedded import load_or_train
    from nlu.focus import QuestionFocus
    from nlu.parser import ClassifierParser

    classifier = load_or_train(config.data_dir, config.cache_dir, force=force_train)
    unsure = {"threshold": config.threshold, "ambiguity_threshold": config.ambiguity_threshold}
    return ClassifierParser(QuestionFocus(classifier, **unsure), **unsure)


def load_parser(config: NluConfig) -> Parser:
    """The parser the configuration asks for.

    With backend "rasa", the embedded parser is built too, as the fallback for when Rasa is
    unavailable. Callers that need a pure Rasa parser (the evaluation) build RasaHttpParser
    without a fallback.

    Raises:
        ModelError: the embedded model cannot be trained (no data).
        TrainingDataError: a training file is not valid YAML.
    """
    from nlu.rasa_http import RasaHttpParser

    embedded = load_embedded_parser(config)
    if config.backend == "embedded":
        return embedded
    assert config.rasa_url is not None  # NluConfig refuses "rasa" without a URL
    return RasaHttpParser(
        config.rasa_url,
        timeout_s=config.rasa_timeout_s,
        fallback=embedded,
        retry_after_s=config.rasa_retry_after_s,
    )
