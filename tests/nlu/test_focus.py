"""A long message's question sentence weighs extra (nlu/focus.py)."""

from __future__ import annotations

import pytest

from nlu.focus import FOCUS_WEIGHT, QuestionFocus, question_of
from nlu.types import IntentPrediction, ResponseRanking
from tests.nlu_models import parser

STORY = ("Jeg har boet på gaden i et år og drikker for meget, men nu er jeg i behandling. "
         "En medarbejder på værestedet sagde jeg skulle skrive her. ")


@pytest.mark.parametrize(("text", "question"), [
    ("hvor meget må jeg tjene?", None),  # short: one thought
    ("jeg har fået et job på et lager hos en kammerat og vil gerne vide hvor meget jeg må tjene",
     None),  # long, but one sentence
    (STORY + "Hvordan søger jeg om kortet?", "Hvordan søger jeg om kortet?"),
    (STORY + "Kan jeg søge? Tak for hjælpen.", "Kan jeg søge?"),
    (STORY + "Hvad nu?",
     "En medarbejder på værestedet sagde jeg skulle skrive her. Hvad nu?"),
    (STORY + "Jeg vil gerne søge om et frikort", "Jeg vil gerne søge om et frikort"),
    (STORY + "Søge kort", "En medarbejder på værestedet sagde jeg skulle skrive her. Søge kort"),
])
def test_the_question_sentence(text: str, question: str | None) -> None:
    assert question_of(text) == question


UNSURE = {"threshold": 0.25, "ambiguity_threshold": 0.05}


class _Fake:
    """Ranks by whether the text is only the question (what the focus asks for separately)."""

    retrieval_intents = ["faq_eligibility"]

    def __init__(self, story: tuple[float, float] = (0.45, 0.55),
                 question: tuple[float, float] = (0.9, 0.1)) -> None:
        self.seen: list[str] = []
        self.story, self.question = story, question

    def classify(self, text: str) -> tuple[list[IntentPrediction], list[ResponseRanking]]:
        self.seen.append(text)
        story = text != "Hvordan søger jeg om kortet?"
        apply, eligibility = self.story if story else self.question
        return ([IntentPrediction(name="faq_eligibility", confidence=eligibility),
                 IntentPrediction(name="apply_card", confidence=apply)],
                [ResponseRanking(intent_response_key="faq_eligibility/alcohol",
                                 confidence=eligibility)])


def test_the_question_tips_a_close_call_in_a_long_message() -> None:
    inner = _Fake()
    intents, answers = QuestionFocus(inner, **UNSURE).classify(
        STORY + "Hvordan søger jeg om kortet?")
    assert inner.seen == [STORY + "Hvordan søger jeg om kortet?", "Hvordan søger jeg om kortet?"]
    assert [p["name"] for p in intents] == ["apply_card", "faq_eligibility"]
    assert intents[0]["confidence"] == pytest.approx(
        (1 - FOCUS_WEIGHT) * 0.45 + FOCUS_WEIGHT * 0.9, abs=1e-4)
    assert sum(p["confidence"] for p in intents) == pytest.approx(1.0, abs=1e-3)
    assert answers[0]["intent_response_key"] == "faq_eligibility/alcohol"


def test_a_short_message_is_scored_once_as_it_is() -> None:
    inner = _Fake()
    intents, _ = QuestionFocus(inner, **UNSURE).classify("hvordan søger jeg om kortet")
    assert inner.seen == ["hvordan søger jeg om kortet"]
    assert intents[0] == IntentPrediction(name="faq_eligibility", confidence=0.55)


def test_the_mix_never_makes_a_clear_message_unsure() -> None:
    """Whole 0.4/0.6, question 0.7/0.3: mixed 0.49/0.51 is within the ambiguity margin, so the
    whole message's clear ranking stands rather than "Det forstod jeg ikke"."""
    inner = _Fake(story=(0.4, 0.6), question=(0.7, 0.3))
    intents, _ = QuestionFocus(inner, **UNSURE).classify(STORY + "Hvordan søger jeg om kortet?")
    assert len(inner.seen) == 2
    assert intents[0] == IntentPrediction(name="faq_eligibility", confidence=0.6)


def test_the_app_parser_weighs_the_question() -> None:
    """A card holder's story of a few hours a week on a warehouse: the question is about the
    cap, not the hours (the whole message alone was ranked faq_hours)."""
    parsed = parser().parse(
        "hej jeg har faaet lidt arbejde paa et lager hos en kammerat af min bror, bare et par "
        "timer om ugen. men hvor meget kan jeg egentlig tjene paa det kort foer det er brugt op")
    assert parsed["intent"]["name"] == "faq_limit"
