"""The parse-result shape, identical to Rasa's /model/parse response, so backends interchange."""

from __future__ import annotations

import datetime as dt
from typing import NotRequired, Protocol, TypedDict

INTENTS: tuple[str, ...] = (
    # conversation
    "greet",
    "goodbye",
    "thanks",
    "help",
    "affirm",
    "deny",
    "human_handoff",
    "out_of_scope",
    # citizen
    "check_balance",
    "apply_card",
    "find_job",
    "faq_limit",
    "faq_card_validity",
    "faq_225_rule",
    "faq_benefits",
    "faq_tax",
    "faq_hours",
    "faq_job_types",
    "faq_exceed",
    "faq_eligibility",
    "faq_reporting",
    # employer
    "employer_check_card",
    "employer_report_wage",
    "employer_register",
    "employer_post_job",
    "employer_faq_payroll",
    "employer_faq_contract",
    "employer_faq_insurance",
    "employer_faq_holiday_pension",
)
"""Every intent name the bot, the training data and the evaluation agree on."""

FALLBACK_INTENT = "nlu_fallback"
"""Predicted when the classifier is unsure; the same name Rasa's FallbackClassifier uses."""

RANKING_LENGTH = 10
"""Intents (and answers) listed in a ranking, as Rasa's DIET does by default."""

ENTITY_TYPES: tuple[str, ...] = ("amount", "hours", "card_number", "date", "cvr", "phone", "cpr")


class Entity(TypedDict):
    """One extracted entity with its normalised value and character span in the original text."""

    entity: str
    value: str
    start: int
    end: int
    extractor: str


class IntentPrediction(TypedDict):
    name: str
    confidence: float


class ResponseRanking(TypedDict):
    """One candidate answer of a retrieval intent, as in Rasa's response selector ranking."""

    intent_response_key: str
    confidence: float


class SelectedResponse(TypedDict):
    intent_response_key: str
    confidence: float
    utter_action: str
    """Rasa's name for the response: "utter_" + the key."""


class SelectorPrediction(TypedDict):
    response: SelectedResponse
    ranking: list[ResponseRanking]


class ResponseSelectorResult(TypedDict):
    """Rasa's `response_selector` property: one entry per selector, "default" for ours."""

    all_retrieval_intents: list[str]
    default: SelectorPrediction


class ParseResult(TypedDict):
    """Rasa's parse shape: {"text", "intent", "intent_ranking", "entities"}, plus Rasa's
    `response_selector` when the model has retrieval intents (the rule answers)."""

    text: str
    intent: IntentPrediction
    intent_ranking: list[IntentPrediction]
    entities: list[Entity]
    response_selector: NotRequired[ResponseSelectorResult]


class Parser(Protocol):
    """Anything that turns a message into a ParseResult (embedded model, Rasa over HTTP, a fake)."""

    def parse(self, text: str, today: dt.date | None = None) -> ParseResult: ...


class IntentClassifier(Protocol):
    """Intent ranking only: the entity extractors are shared by every backend."""

    def rank(self, text: str) -> list[IntentPrediction]: ...


def response_selector(
    ranking: list[ResponseRanking], retrieval_intents: list[str]
) -> ResponseSelectorResult | None:
    """Rasa's shape for a response ranking (best first); None when there is nothing to rank."""
    if not ranking:
        return None
    best = ranking[0]
    return ResponseSelectorResult(
        all_retrieval_intents=list(retrieval_intents),
        default=SelectorPrediction(
            response=SelectedResponse(
                intent_response_key=best["intent_response_key"],
                confidence=best["confidence"],
                utter_action=f"utter_{best['intent_response_key']}"),
            ranking=ranking))
