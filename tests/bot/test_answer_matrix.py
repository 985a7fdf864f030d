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
from danish.wording import segments
from nlu import ParseResult
from tests.bot.conftest import Chat, LastOutcome, make_chat, scripted_parse

KNOWLEDGE = load_knowledge()
KEYS = KNOWLEDGE.keys()
ASKERS = ("unknown", "jens", "mette", "ali", "cafe", "groen")


class NamedAnswerParser:
    """A parser that answers every message with the rule answer currently asked for."""

    def __init__(self) -> None:
        self.key = KEYS[0]

    def parse(self, text: str, today: dt.date | None = None) -> ParseResult:
        return scripted_parse(text, today, intents=[(self.key.split("/")[0], 0.95)],
                              answers=[(self.key, 0.9)])


@pytest.fixture(params=["cap", "nocap"], scope="module")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Chat, NamedAnswerParser, LastOutcome]]:
    parser = NamedAnswerParser()
    folder: Path = tmp_path_factory.mktemp(f"matrix-{request.param}")
    chat = make_chat(f"sqlite:///{folder / 'bot.db'}", parser,
                     demo_cap=request.param == "cap")
    watcher = LastOutcome()
    chat.dialogue.observer = watcher
    yield chat, parser, watcher
    chat.ledger.close()


def _same_answer(key: str) -> set[str | None]:
    """The answer, and its other side: the employer's answer it points at, or the card
    holder's answer that points at it (a card holder is given their own side)."""
    return {key, KNOWLEDGE.answer(key).employer_answer,
            *(a.key for a in KNOWLEDGE.answers() if a.employer_answer == key)}


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_every_answer_renders_for_every_asker(
        world: tuple[Chat, NamedAnswerParser, LastOutcome], channel: str) -> None:
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
            elif watcher.last not in _same_answer(key):
                problems.append(f"{label}: got {watcher.last}")
    assert not problems, "\n".join(problems)
