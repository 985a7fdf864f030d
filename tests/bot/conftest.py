"""Bot test fixtures: one trained NLU parser per session, and a demo-seeded ledger per test.

The parser is trained from nlu/data once, into a session cache dir (the model is cached by a
hash of the data, so a second session on the same machine would only load it). Each test gets
a fresh SQLite file copied from one migrated template, with the demo data seeded relative to
its FakeClock, and a `Chat` helper that sends messages through `Dialogue.handle`.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from api.demo_seed import seed
from bot.crisis import CrisisScorer
from bot.engine import Dialogue
from bot.messages import Channel, InboundMessage, Reply
from ledger import Ledger
from nlu import NluConfig, Parser, load_crisis_classifier, load_parser
from tests.ledger.support import FakeClock, fast_ledger

REPO = Path(__file__).resolve().parents[2]
DEFAULT_NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)

# The demo identities (api/data/demo.yml) by a short name.
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
def parser(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Parser:
    """The real embedded parser, trained once for the whole bot suite.

    The model is cached by a hash of nlu/data, so keeping it in .pytest_cache lets the next
    run skip training until the data changes; without the cache plugin, a session temp dir.
    """
    cache_plugin = getattr(request.config, "cache", None)
    cache = (cache_plugin.mkdir("bot-nlu-model") if cache_plugin is not None
             else tmp_path_factory.mktemp("bot-nlu-cache"))
    return shared_parser(cache)


_parsers: list[Parser] = []


def shared_parser(cache: Path | None = None) -> Parser:
    """One trained parser per process, for fixtures and for code that runs outside them
    (Hypothesis state machines, benchmarks)."""
    if not _parsers:
        folder = cache or Path(tempfile.mkdtemp(prefix="bot-nlu-"))
        _parsers.append(load_parser(NluConfig(data_dir=REPO / "nlu" / "data", cache_dir=folder)))
    return _parsers[0]


_ids = itertools.count(1)


@dataclass
class Chat:
    """A demo-seeded ledger, a Dialogue on it, and a way to talk to it as anyone."""

    ledger: Ledger
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


_seeded_templates: dict[tuple[dt.date, bool], Path] = {}


def _seeded_template(today: dt.date, now: dt.datetime, demo_cap: bool = True) -> Path:
    """A migrated, demo-seeded SQLite file per day, made once and copied for each test
    (seeding costs about a second: dozens of small transactions)."""
    key = (today, demo_cap)
    if key not in _seeded_templates:
        path = Path(tempfile.mkdtemp(prefix="bot-demo-")) / "seeded.db"
        ledger = fast_ledger(f"sqlite:///{path}", FakeClock(now))
        seed(ledger, today, demo_cap=demo_cap)
        ledger.close()
        _seeded_templates[key] = path
    return _seeded_templates[key]


@functools.cache
def crisis_classifier() -> CrisisScorer | None:
    """The dedicated crisis classifier, trained once per test session (as the server does),
    so conversations in the tests see crises the way production does."""
    return load_crisis_classifier(NluConfig(data_dir=REPO / "nlu" / "data",
                                            cache_dir=Path(tempfile.mkdtemp(prefix="crisis-"))))


def make_chat(url: str, parser: Parser, now: dt.datetime = DEFAULT_NOW, *,
              demo_cap: bool = True) -> Chat:
    """A Dialogue on a demo-seeded ledger at `url`; SQLite files start as a seeded copy.
    Without `demo_cap` the year has no cap loaded (Jens's reports then wait for it)."""
    clock = FakeClock(now)
    prefix = "sqlite:///"
    if url.startswith(prefix) and not Path(url[len(prefix):]).exists():
        shutil.copyfile(_seeded_template(now.date(), now, demo_cap), url[len(prefix):])
        ledger = fast_ledger(url, clock)
    else:
        ledger = fast_ledger(url, clock)
        seed(ledger, clock.now.date(), demo_cap=demo_cap)
    dialogue = Dialogue(ledger, parser, crisis=crisis_classifier())
    return Chat(ledger=ledger, clock=clock, dialogue=dialogue, url=url)


@pytest.fixture
def chat(tmp_path: Path, parser: Parser) -> Iterator[Chat]:
    made = make_chat(f"sqlite:///{tmp_path / 'bot.db'}", parser)
    yield made
    made.ledger.close()
