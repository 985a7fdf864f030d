"""Bot test fixtures: one trained NLU parser per session, and a demo-seeded ledger per test.

The parser is trained from nlu/data once per machine (tests/nlu_models.py: the model is cached
by a hash of the data, so a second session, or another xdist worker, only loads it). Each test
gets a fresh SQLite file copied from a template seeded with the demo data relative to its FakeClock
(tests/databases.py), and a `Chat` helper that sends messages through `Dialogue.handle`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from api.bootstrap import Backend
from bot.crisis import CrisisScorer
from bot.engine import Dialogue
from bot.messages import Channel, InboundMessage, Reply
from bot.observe import DialogueObserver
from nlu import ParseResult, Parser, ResponseRanking, extract_entities
from sampledata.demo import seed
from tests import databases, nlu_models
from tests.databases import DEMO_NOW
from tests.ledger.support import FakeClock, fast_ledger, make_config

REPO = Path(__file__).resolve().parents[2]
DEFAULT_NOW = DEMO_NOW

# The demo identities (sampledata/data/demo.yml) by a short name.
IDENTITIES: dict[str, tuple[Channel, str]] = {
    "jens": ("sms", "+4520304050"),      # card 48213, linked, employed by the café
    "mette": ("sms", "+4521436587"),     # card 51736, linked, employed by the café
    "ali": ("sms", "+4551627384"),       # card 60417, deactivated
    "cafe": ("sms", "+4531425364"),      # Café Solsikken ApS, CVR 31425360, verified
    "groen": ("sms", "+4540506070"),     # Havefirmaet Grøn Hånd, CVR 29183740, unverified
    "unknown": ("sms", "+4528765432"),   # nobody
}
CARDS = {"jens": "48213", "mette": "51736", "ali": "60417"}
CAFE_CVR = "31425360"
GROEN_CVR = "29183740"


@pytest.fixture(scope="session")
def parser() -> Parser:
    """The real embedded parser, trained once per machine (tests/nlu_models.py)."""
    return shared_parser()


def shared_parser(cache: Path | None = None) -> Parser:
    """One trained parser per process, for fixtures and for code that runs outside them
    (Hypothesis state machines, benchmarks)."""
    return nlu_models.parser()


_ids = itertools.count(1)


@dataclass
class Chat:
    """A demo-seeded ledger, a Dialogue on it, and a way to talk to it as anyone."""

    ledger: Backend
    clock: FakeClock
    dialogue: Dialogue
    url: str
    sent: list[tuple[InboundMessage, list[Reply]]] = field(default_factory=list)

    def inbound(self, who: str, text: str, *, channel: Channel | None = None,
                message_id: str | None = None, shared_phone: str | None = None) -> InboundMessage:
        if who in IDENTITIES:
            default_channel, address = IDENTITIES[who]
        else:
            default_channel, address = "sms", who
        return InboundMessage(
            channel=channel or default_channel, sender=address, text=text,
            provider_message_id=message_id or f"test-{next(_ids)}",
            received_at=self.clock.now, shared_phone=shared_phone)

    def send(self, who: str, text: str, **kwargs: object) -> list[Reply]:
        message = self.inbound(who, text, **kwargs)  # type: ignore[arg-type]  # inbound()'s keywords from the callers
        replies = self.dialogue.handle(message)
        self.sent.append((message, replies))
        return replies

    def say(self, who: str, text: str, **kwargs: object) -> str:
        """The replies to one message, joined with newlines."""
        return "\n".join(r.text for r in self.send(who, text, **kwargs))

    def all_replies(self) -> list[str]:
        return [r.text for _, replies in self.sent for r in replies]


def crisis_classifier() -> CrisisScorer | None:
    """The dedicated crisis classifier (tests/nlu_models.py), as the server loads it, so
    conversations in the tests see crises the way production does."""
    return nlu_models.crisis_classifier()


def make_chat(url: str, parser: Parser, now: dt.datetime = DEFAULT_NOW, *,
              demo_cap: bool = True) -> Chat:
    """A Dialogue on a demo-seeded ledger at `url`: a new SQLite file, or a PostgreSQL database
    from `databases.postgres_copy(seeded(now, demo_cap))`, starts as a copy of the seeded
    template (tests/databases.py); any other database is migrated and seeded here.
    Without `demo_cap` the year has no cap loaded (Jens's reports then wait for it)."""
    clock = FakeClock(now)
    if databases.materialise(url, databases.seeded(now, demo_cap)):
        ledger = Backend(make_config(url), clock=clock)
    else:
        ledger = fast_ledger(url, clock)
        seed(ledger, ledger.tasks, clock.now.date(), demo_cap=demo_cap)
    dialogue = Dialogue(ledger.conversations, parser, crisis=crisis_classifier())
    return Chat(ledger=ledger, clock=clock, dialogue=dialogue, url=url)


@pytest.fixture
def chat(tmp_path: Path, parser: Parser) -> Iterator[Chat]:
    made = make_chat(f"sqlite:///{tmp_path / 'bot.db'}", parser)
    yield made
    made.ledger.close()


class LastOutcome(DialogueObserver):
    """Remembers the last outcome the dialogue decided (the answer id, a flow, "crisis")."""

    def __init__(self) -> None:
        self.last = ""

    def decided(self, inbound: object, outcome: str) -> None:
        self.last = outcome


def scripted_parse(text: str, today: dt.date | None, *, intents: list[tuple[str, float]],
                   answers: list[tuple[str, float]]) -> ParseResult:
    """A parse result of the parser's shape with the intent ranking and the response
    selector's ranking given (best first), for tests that script what the classifier says."""
    ranking: list[ResponseRanking] = [{"intent_response_key": key, "confidence": confidence}
                                      for key, confidence in answers]
    best_key, best_confidence = answers[0]
    return ParseResult(
        text=text, intent={"name": intents[0][0], "confidence": intents[0][1]},
        intent_ranking=[{"name": name, "confidence": confidence} for name, confidence in intents],
        entities=extract_entities(text, today),
        response_selector={"all_retrieval_intents": [name for name, _ in intents], "default": {
            "response": {"intent_response_key": best_key, "confidence": best_confidence,
                         "utter_action": f"utter_{best_key}"},
            "ranking": ranking}})
