"""Every rule answer, for every kind of asker, renders: no exception, no unfilled placeholder,
within the SMS budget, in the asker's voice.

The dialogue is driven with a parser that names the answer (Rasa's response selector shape),
so each answer is reached on purpose: answers × askers (unknown, card holder with an active or
a deactivated card, with and without the year's cap and with reports waiting for it, verified
and unverified employer) × SMS and Telegram.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.knowledge import load_knowledge
from bot.observe import DialogueObserver
from danish.wording import segments
from nlu import ParseResult, ResponseRanking, extract_entities
from tests.bot.conftest import Chat, make_chat

KNOWLEDGE = load_knowledge()
KEYS = KNOWLEDGE.keys()
ASKERS = ("unknown", "jens", "mette", "ali", "cafe", "groen")


class NamedAnswerParser:
    """A parser that answers every message with the rule answer currently asked for."""

    def __init__(self) -> None:
        self.key = KEYS[0]

    def parse(self, text: str, today: dt.date | None = None) -> ParseResult:
        intent = self.key.split("/")[0]
        ranking: list[ResponseRanking] = [{"intent_response_key": self.key, "confidence": 0.9}]
        return ParseResult(
            text=text, intent={"name": intent, "confidence": 0.95},
            intent_ranking=[{"name": intent, "confidence": 0.95}],
            entities=extract_entities(text, today),
            response_selector={"all_retrieval_intents": [intent], "default": {
                "response": {"intent_response_key": self.key, "confidence": 0.9,
                             "utter_action": f"utter_{self.key}"},
                "ranking": ranking}})


class Outcome(DialogueObserver):
    def __init__(self) -> None:
        self.last = ""

    def decided(self, inbound: object, outcome: str) -> None:
        self.last = outcome


@pytest.fixture(params=["cap", "nocap"], scope="module")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Chat, NamedAnswerParser, Outcome]]:
    parser = NamedAnswerParser()
    folder: Path = tmp_path_factory.mktemp(f"matrix-{request.param}")
    chat = make_chat(f"sqlite:///{folder / 'bot.db'}", parser,
                     demo_cap=request.param == "cap")
    watcher = Outcome()
    chat.dialogue.observer = watcher
    yield chat, parser, watcher
    chat.ledger.close()


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_every_answer_renders_for_every_asker(
        world: tuple[Chat, NamedAnswerParser, Outcome], channel: str) -> None:
    chat, parser, watcher = world
    problems = []
    for key in KEYS:
        parser.key = key
        for asker in ASKERS:
            if channel == "telegram" and asker not in ("unknown", "cafe"):
                continue  # Telegram senders are chat ids; the demo links phones only
            who = asker if channel == "sms" else f"tg-{asker}"
            chat.clock.advance(seconds=10)  # within the per-sender rate limit
            replies = chat.send(who, "et spørgsmål", channel=channel)
            text = "\n".join(r.text for r in replies)
            label = f"{key} [{asker} {channel}]"
            if watcher.last == "error" or not replies:
                problems.append(f"{label}: no answer ({watcher.last})")
            elif "{" in text or "}" in text:
                problems.append(f"{label}: unfilled placeholder: {text}")
            elif channel == "sms" and segments(text) > 2:
                problems.append(f"{label}: {segments(text)} SMS: {text}")
            elif watcher.last not in (key, KNOWLEDGE.answer(key).employer_answer):
                problems.append(f"{label}: got {watcher.last}")
    assert not problems, "\n".join(problems)
