"""The composition root: everything the server needs, built once from the settings.

`Backend` (api/backend.py) wires the domain services side by side on one database kernel;
nothing below api/ builds another package's service. The server, the benchmarks and the tests
build theirs here; the CLI takes `Backend` alone, without the dialogue and the channels.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from api.backend import Backend as Backend  # the name every caller imports from here
from api.channels.senders import Sender
from api.channels.telegram_sender import TelegramSender
from api.channels.twilio_sender import TwilioSender
from api.settings import Settings
from bot import Dialogue
from bot.crisis import CrisisScorer
from bot.voice.line import PhoneLine
from nlu import Parser, ParseResult, load_parser


class LazyParser:
    """Trains (or loads) the NLU model and the crisis classifier on first use, so the REST API
    starts in milliseconds. It is both the dialogue's Parser and its CrisisScorer."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._parser: Parser | None = None
        self._crisis: CrisisScorer | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Loads the models now; the server calls it in the background at start-up, so the
        first SMS does not wait for training (Twilio gives up after 15 seconds)."""
        from nlu import load_crisis_classifier  # scikit-learn: only when a model is needed

        with self._lock:
            if self._parser is None:
                self._crisis = load_crisis_classifier(self._settings.nlu)
                self._parser = load_parser(self._settings.nlu)

    def parse(self, text: str, today: dt.date | None = None) -> ParseResult:
        if self._parser is None:
            self.warm()
        assert self._parser is not None
        return self._parser.parse(text, today)

    def crisis_kind(self, text: str) -> str | None:
        if self._parser is None:
            self.warm()
        return self._crisis.crisis_kind(text) if self._crisis is not None else None


@dataclass
class Services:
    settings: Settings
    ledger: Backend
    parser: Parser
    dialogue: Dialogue
    phone_line: PhoneLine
    senders: dict[str, Sender] = field(default_factory=dict)
    telegram: TelegramSender | None = None
    owns_ledger: bool = True


def build_services(
    settings: Settings, *, ledger: Backend | None = None, parser: Parser | None = None,
    crisis: CrisisScorer | None = None,
) -> Services:
    """Tests pass their own ledger (with a fake clock), parser or crisis classifier; the server
    passes none."""
    the_ledger = ledger or Backend(settings.ledger)
    lazy = LazyParser(settings) if parser is None else None
    the_parser = parser or lazy
    assert the_parser is not None
    dialogue = Dialogue(the_ledger.conversations, the_parser, config=settings.bot, crisis=crisis or lazy)
    services = Services(
        settings=settings, ledger=the_ledger, parser=the_parser, dialogue=dialogue,
        phone_line=PhoneLine(dialogue), owns_ledger=ledger is None)
    if settings.twilio_configured:
        assert settings.TWILIO_AUTH_TOKEN and settings.TWILIO_ACCOUNT_SID
        services.senders["sms"] = TwilioSender(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN.get_secret_value(),
            settings.TWILIO_FROM_NUMBER or "", settings.TWILIO_API_BASE_URL)
    if settings.TELEGRAM_BOT_TOKEN is not None:
        services.telegram = TelegramSender(settings.TELEGRAM_BOT_TOKEN.get_secret_value(),
                                           settings.TELEGRAM_API_BASE_URL)
        services.senders["telegram"] = services.telegram
    return services
