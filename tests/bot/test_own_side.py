"""A card holder's question the classifier ranked on the employer's side ("tæller feriepenge
med i de 42.000?") gets the card holder's own answer when that is a serious runner-up; an
employer asking the same keeps the employer's answer (bot/flows/intents.py, `_own_side`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlu import ParseResult
from tests.bot.conftest import Chat, LastOutcome, make_chat, scripted_parse

EMPLOYER_KEY = "employer_faq_holiday_pension/holiday_pay"
HOLDER_KEY = "faq_limit/what_counts"


class TornParser:
    """Ranks the employer's holiday-pay question first and the card holder's limit question
    second, with the runner-up's confidence set by the test."""

    def __init__(self) -> None:
        self.runner_up = 0.4

    def parse(self, text: str, today: dt.date | None = None) -> ParseResult:
        return scripted_parse(
            text, today,
            intents=[(EMPLOYER_KEY.split("/")[0], 1 - self.runner_up),
                     (HOLDER_KEY.split("/")[0], self.runner_up)],
            answers=[(EMPLOYER_KEY, 0.6), (HOLDER_KEY, 0.35)])


@pytest.fixture
def torn(tmp_path: Path) -> Iterator[tuple[Chat, TornParser, LastOutcome]]:
    parser = TornParser()
    chat = make_chat(f"sqlite:///{tmp_path / 'bot.db'}", parser)
    watcher = LastOutcome()
    chat.dialogue.observer = watcher
    yield chat, parser, watcher
    chat.ledger.close()


QUESTION = "taeller pension og feriepenge med i de 42000"


def test_a_card_holder_gets_their_own_answer(torn: tuple[Chat, TornParser, LastOutcome]) -> None:
    chat, _, watcher = torn
    chat.send("jens", QUESTION)
    assert watcher.last.startswith("faq_limit/"), watcher.last


def test_an_employer_keeps_the_employers_answer(torn: tuple[Chat, TornParser, LastOutcome]) -> None:
    chat, _, watcher = torn
    chat.send("cafe", QUESTION)
    assert watcher.last == EMPLOYER_KEY


def test_a_faint_runner_up_does_not_win(torn: tuple[Chat, TornParser, LastOutcome]) -> None:
    chat, parser, watcher = torn
    parser.runner_up = 0.1
    chat.send("jens", QUESTION)
    assert watcher.last == EMPLOYER_KEY
