"""A card holder's question the classifier ranked on the employer's side ("tæller feriepenge
med i de 42.000?") gets the card holder's own answer when that is a serious runner-up; an
employer asking the same keeps the employer's answer (bot/flows/intents.py, `_own_side`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.observe import DialogueObserver
from nlu import ParseResult, ResponseRanking, extract_entities
from tests.bot.conftest import Chat, make_chat

EMPLOYER_KEY = "employer_faq_holiday_pension/holiday_pay"
HOLDER_KEY = "faq_limit/what_counts"


class TornParser:
    """Ranks the employer's holiday-pay question first and the card holder's limit question
    second, with the runner-up's confidence set by the test."""

    def __init__(self) -> None:
        self.runner_up = 0.4

    def parse(self, text: str, today: dt.date | None = None) -> ParseResult:
        first, second = EMPLOYER_KEY.split("/")[0], HOLDER_KEY.split("/")[0]
        ranking: list[ResponseRanking] = [
            {"intent_response_key": EMPLOYER_KEY, "confidence": 0.6},
            {"intent_response_key": HOLDER_KEY, "confidence": 0.35}]
        return ParseResult(
            text=text, intent={"name": first, "confidence": 1 - self.runner_up},
            intent_ranking=[{"name": first, "confidence": 1 - self.runner_up},
                            {"name": second, "confidence": self.runner_up}],
            entities=extract_entities(text, today),
            response_selector={"all_retrieval_intents": [first, second], "default": {
                "response": {"intent_response_key": EMPLOYER_KEY, "confidence": 0.6,
                             "utter_action": f"utter_{EMPLOYER_KEY}"},
                "ranking": ranking}})


class Outcome(DialogueObserver):
    def __init__(self) -> None:
        self.last = ""

    def decided(self, inbound: object, outcome: str) -> None:
        self.last = outcome


@pytest.fixture
def torn(tmp_path: Path) -> Iterator[tuple[Chat, TornParser, Outcome]]:
    parser = TornParser()
    chat = make_chat(f"sqlite:///{tmp_path / 'bot.db'}", parser)
    watcher = Outcome()
    chat.dialogue.observer = watcher
    yield chat, parser, watcher
    chat.ledger.close()


QUESTION = "taeller pension og feriepenge med i de 42000"


def test_a_card_holder_gets_their_own_answer(torn: tuple[Chat, TornParser, Outcome]) -> None:
    chat, _, watcher = torn
    chat.send("jens", QUESTION)
    assert watcher.last.startswith("faq_limit/"), watcher.last


def test_an_employer_keeps_the_employers_answer(torn: tuple[Chat, TornParser, Outcome]) -> None:
    chat, _, watcher = torn
    chat.send("cafe", QUESTION)
    assert watcher.last == EMPLOYER_KEY


def test_a_faint_runner_up_does_not_win(torn: tuple[Chat, TornParser, Outcome]) -> None:
    chat, parser, watcher = torn
    parser.runner_up = 0.1
    chat.send("jens", QUESTION)
    assert watcher.last == EMPLOYER_KEY
