"""Shared set-up for the end-to-end channel tests: the app on a demo-seeded ledger, wired to fake
Twilio and Telegram APIs on loopback, and helpers that speak each provider's wire format.

Nothing in the code under test is patched. The app runs under FastAPI's TestClient with
RUN_BACKGROUND_WORKER=False; a test delivers the outbox by awaiting the app's own
``BackgroundScheduler.deliver_due`` on the TestClient's event loop (``Channels.deliver``), so the
PTB bot and its HTTP client stay on the loop they were opened on. The ledger has a FakeClock,
so outbox backoff can be stepped by hand.

The NLU model is trained once per machine into pytest's cache directory (tests/nlu_models.py: it
is cached by a hash of the training data, the model version and sklearn's version, so a stale
model is never loaded); every app in the session shares one parser, and ``NLU_CACHE_DIR`` points
there too.

Test modules import the fixtures they use from here (``from tests.api.channel_fixtures import
...``) so tests/api/conftest.py stays as it is.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from api.app import create_app
from api.bootstrap import Backend
from api.scheduler import BackgroundScheduler
from api.settings import Settings
from db.conversation_tables import Conversation, OutboxMessage, TranscriptMessage
from nlu import Parser
from sampledata.demo import seed
from tests import databases, nlu_models
from tests.conftest import TEST_CLIENT_HOST
from tests.databases import DEMO_NOW
from tests.fakes.http_server import RunningServer, serve_asgi
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.ledger.support import FakeClock, fast_ledger, make_config, raw_engine

REPO = Path(__file__).resolve().parents[2]
NOW = DEMO_NOW
"""The ledger's clock starts here (a Monday); the demo data is seeded relative to it."""

PUBLIC_BASE_URL = "https://frikort.example.dk"
TWILIO_SMS_PATH = "/webhooks/twilio/sms"
TWILIO_SID = "AC" + "5e" * 16
TWILIO_TOKEN = "9f3b2c1d0e4a5b6c7d8e9f0a1b2c3d4e"
TWILIO_FROM = "+4570203040"
BOT_TOKEN = "7123456789:AAE-channel-tests_0123456789abcdefXYZ"
TELEGRAM_SECRET = "tg-secret_4f1c9a7e2b"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ADMIN_KEY = "channels-admin-key-7d3e"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
PROBLEM_JSON = "application/problem+json"

# The demo identities (sampledata/data/demo.yml).
JENS_PHONE, JENS_CARD = "+4520304050", "48213"
METTE_PHONE, METTE_CARD = "+4521436587", "51736"
CAFE_PHONE, CAFE_CVR = "+4531425364", "31425360"
UNKNOWN_PHONE = "+4512345678"
JENS_EARNED = "2.062,50 kr."
"""600,00 + 1.012,50 + 450,00 kr. seeded for Jens this year."""


# --- the NLU parser: trained once per machine (tests/nlu_models.py) -----------------------


def shared_parser(cache_dir: Path | None = None) -> Parser:
    """One parser per process, whichever test module asks first (the models of
    tests/nlu_models.py; `cache_dir` is that folder, as `nlu_cache_dir` gives it)."""
    return nlu_models.parser()


@pytest.fixture(scope="session")
def nlu_cache_dir() -> Path:
    """The folder holding the trained models, for apps that load their own (NLU_CACHE_DIR)."""
    return nlu_models.trained_cache_dir()


@pytest.fixture(scope="session")
def channel_parser(nlu_cache_dir: Path) -> Parser:
    return shared_parser(nlu_cache_dir)


# --- fake providers on loopback ------------------------------------------------------------


@pytest.fixture(scope="session")
def twilio_server() -> Iterator[tuple[FakeTwilio, RunningServer]]:
    fake = FakeTwilio(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, slow_delay_s=3.0)
    with serve_asgi(fake.app) as server:
        yield fake, server
        fake.release()


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[tuple[FakeTelegram, RunningServer]]:
    fake = FakeTelegram(token=BOT_TOKEN, slow_delay_s=3.0)
    with serve_asgi(fake.app) as server:
        yield fake, server
        fake.release()


@pytest.fixture
def fake_twilio(twilio_server: tuple[FakeTwilio, RunningServer]) -> FakeTwilio:
    fake, _ = twilio_server
    fake.fail("ok")
    fake.log.clear()
    return fake


@pytest.fixture
def fake_telegram(telegram_server: tuple[FakeTelegram, RunningServer]) -> FakeTelegram:
    fake, _ = telegram_server
    fake.fail("ok")
    fake.log.clear()
    return fake


# --- provider wire formats -----------------------------------------------------------------

_sids = itertools.count(1)
_update_ids = itertools.count(700_000_001)
_message_ids = itertools.count(101)


def new_message_sid() -> str:
    return f"SM{next(_sids):032x}"


def twilio_params(sender: str, body: str, *, sid: str | None = None,
                  to: str = TWILIO_FROM) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS (the fields of a real Messaging webhook)."""
    sid = sid or new_message_sid()
    return {
        "ToCountry": "DK", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
        "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
        "Body": body, "FromCountry": "DK", "To": to, "ToZip": "", "NumSegments": "1",
        "MessageSid": sid, "AccountSid": TWILIO_SID, "From": sender, "ApiVersion": "2010-04-01",
    }


def twilio_signature(params: dict[str, str], *, url: str = PUBLIC_BASE_URL + TWILIO_SMS_PATH,
                     token: str = TWILIO_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


def tg_user(user_id: int, first_name: str = "Lone") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "da"}


def tg_chat(chat_id: int, first_name: str = "Lone") -> dict[str, Any]:
    return {"id": chat_id, "first_name": first_name, "type": "private"}


def tg_text_update(chat_id: int, text: str, *, update_id: int | None = None,
                   first_name: str = "Lone") -> dict[str, Any]:
    """A private-chat text message as Telegram posts it to a webhook."""
    return {
        "update_id": update_id or next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "from": tg_user(chat_id, first_name),
            "chat": tg_chat(chat_id, first_name),
            "date": int(NOW.timestamp()),
            "text": text,
        },
    }


def tg_contact_update(chat_id: int, phone: str, *, contact_user_id: int | None = None,
                      first_name: str = "Mette") -> dict[str, Any]:
    """The user pressed "share my contact": Telegram sends the number without a '+'."""
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "from": tg_user(chat_id, first_name),
            "chat": tg_chat(chat_id, first_name),
            "date": int(NOW.timestamp()),
            "contact": {"phone_number": phone.lstrip("+"), "first_name": first_name,
                        "user_id": contact_user_id if contact_user_id is not None else chat_id},
        },
    }


def tg_callback_update(chat_id: int, data: str, *, bot_id: int, message_id: int | str,
                       message_text: str = "Svar JA for at bekræfte",
                       from_user: int | None = None) -> dict[str, Any]:
    """The user pressed an inline button under one of the bot's messages (`message_id`, as
    Telegram gave it when the message was sent: `Channels.buttons_message_id`)."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(4_000_000_000_000 + next(_message_ids)),
            "from": tg_user(from_user if from_user is not None else chat_id),
            "chat_instance": "-7788990011223344556",
            "data": data,
            "message": {
                "message_id": int(message_id),
                "from": {"id": bot_id, "is_bot": True, "first_name": "Frikort",
                         "username": "frikort_bot"},
                "chat": tg_chat(chat_id),
                "date": int(NOW.timestamp()),
                "text": message_text,
                "reply_markup": {"inline_keyboard": [[
                    {"text": "JA", "callback_data": "JA"},
                    {"text": "NEJ", "callback_data": "NEJ"}]]},
            },
        },
    }


# --- the app ---------------------------------------------------------------------------------


@dataclass
class Channels:
    """The app under test, its ledger and clock, and the fake providers it talks to."""

    client: TestClient
    app: FastAPI
    ledger: Backend
    clock: FakeClock
    url: str
    settings: Settings
    twilio: FakeTwilio | None
    telegram: FakeTelegram | None
    extra: dict[str, Any] = field(default_factory=dict)

    # Twilio ------------------------------------------------------------------------------

    def sms(self, sender: str, body: str, *, sid: str | None = None,
            signature: str | None | Callable[[dict[str, str]], str] = "compute",
            params: dict[str, str] | None = None) -> httpx.Response:
        """Posts an inbound SMS as Twilio would, signed with the account's auth token."""
        form = params or twilio_params(sender, body, sid=sid)
        headers: dict[str, str] = {}
        if signature == "compute":
            headers["X-Twilio-Signature"] = twilio_signature(form)
        elif callable(signature):
            headers["X-Twilio-Signature"] = signature(form)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self.client.post(TWILIO_SMS_PATH, data=form, headers=headers)

    def sms_text(self, sender: str, body: str, **kwargs: Any) -> str:
        """The reply texts of the TwiML answer, joined with newlines."""
        response = self.sms(sender, body, **kwargs)
        assert response.status_code == 200, response.text
        return "\n".join(twiml_messages(response.text))

    # Telegram ----------------------------------------------------------------------------

    def tg(self, update: dict[str, Any] | str | bytes, *,
           secret: str | None = TELEGRAM_SECRET) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        body = update if isinstance(update, str | bytes) else json.dumps(update)
        response = self.client.post("/webhooks/telegram", content=body, headers=headers)
        self.settle()
        return response

    def settle(self) -> None:
        """Until the replies the webhook sends itself, after its answer, have gone out."""
        portal = self.client.portal
        assert portal is not None, "the TestClient must be used as a context manager"
        portal.call(self.worker.wait_for_deliveries)

    # The outbox --------------------------------------------------------------------------

    @property
    def worker(self) -> BackgroundScheduler:
        worker: BackgroundScheduler = self.app.state.scheduler
        return worker

    def deliver(self) -> int:
        """One pass of the app's own outbox worker, on the app's event loop."""
        portal = self.client.portal
        assert portal is not None, "the TestClient must be used as a context manager"
        return int(portal.call(self.worker.deliver_due))

    def deliver_all(self, *, max_rounds: int = 20) -> int:
        """Delivers until nothing due is left (each pass sends one message per recipient)."""
        total = 0
        for _ in range(max_rounds):
            handled = self.deliver()
            if not handled:
                return total
            total += handled
        raise AssertionError("the outbox did not drain")

    # Looking at the database -------------------------------------------------------------

    def rows(self, table: Any, *where: Any) -> list[dict[str, Any]]:
        engine = raw_engine(self.url)
        try:
            with engine.connect() as conn:
                stmt = sa.select(table.__table__).where(*where).order_by(table.__table__.c.id)
                return [dict(row._mapping) for row in conn.execute(stmt)]
        finally:
            engine.dispose()

    def outbox(self, *where: Any) -> list[dict[str, Any]]:
        return self.rows(OutboxMessage, *where)

    def buttons_message_id(self, chat_id: int) -> int:
        """Telegram's id of the newest message with buttons sent to a chat."""
        rows = [r for r in self.outbox() if r["recipient"] == str(chat_id)
                and r["buttons_json"] != "[]" and r["provider_message_id"]]
        assert rows, f"no message with buttons was delivered to {chat_id}"
        return int(max(rows, key=lambda r: r["id"])["provider_message_id"])

    def transcript_rows(self, *where: Any) -> list[dict[str, Any]]:
        return self.rows(TranscriptMessage, *where)

    def conversations(self, *where: Any) -> list[dict[str, Any]]:
        return self.rows(Conversation, *where)

    def posted_ore(self, card: str) -> int:
        return int(self.ledger.balance(card, self.clock.now.year).posted_ore)

    # Admin API ---------------------------------------------------------------------------

    def admin(self, method: str, path: str, *, status: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, headers=AUTH, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json()


def twiml_messages(xml: str) -> list[str]:
    """The <Message> texts of a TwiML <Response>; fails if the document is not TwiML."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "Response", xml
    return [(m.text or "") for m in root.findall("Message")]


def channel_settings(url: str, *, twilio: RunningServer | None, telegram: RunningServer | None,
                     nlu_cache_dir: Path | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "ADMIN_API_KEY": ADMIN_KEY,
        "ALLOWED_HOSTS": TEST_CLIENT_HOST,
        "RUN_BACKGROUND_WORKER": False,
        # Explicit, so a developer's environment cannot switch a channel on or off.
        "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "TWILIO_FROM_NUMBER": None,
        "TELEGRAM_BOT_TOKEN": None, "TELEGRAM_WEBHOOK_SECRET": None,
    }
    if nlu_cache_dir is not None:
        values["NLU_CACHE_DIR"] = str(nlu_cache_dir)
    if twilio is not None:
        values.update(TWILIO_ACCOUNT_SID=TWILIO_SID, TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
                      TWILIO_FROM_NUMBER=TWILIO_FROM, TWILIO_API_BASE_URL=twilio.url)
    if telegram is not None:
        values.update(TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
                      TELEGRAM_API_BASE_URL=telegram.url)
    values.update(overrides)
    return Settings(_env_file=None, **values)


@contextmanager
def running_channels(
    url: str, parser: Parser | None, *,
    twilio: tuple[FakeTwilio, RunningServer] | None,
    telegram: tuple[FakeTelegram, RunningServer] | None,
    nlu_cache_dir: Path | None = None,
    seeded: bool = True,
    **overrides: Any,
) -> Iterator[Channels]:
    """The app on a fresh demo-seeded ledger; `parser=None` lets the app load its own. A new
    SQLite file, or a PostgreSQL copy of the seeded template (`demo_db_url`), starts as a copy
    of the seeded template (tests/databases.py); anything else is migrated and seeded here."""
    clock = FakeClock(NOW)
    if seeded and databases.materialise(url, databases.seeded(NOW)):
        ledger = Backend(make_config(url), clock=clock)
    else:
        ledger = fast_ledger(url, clock)
        if seeded:
            seed(ledger, ledger.tasks, clock.now.date())
    settings = channel_settings(url, twilio=twilio[1] if twilio else None,
                                telegram=telegram[1] if telegram else None,
                                nlu_cache_dir=nlu_cache_dir, **overrides)
    app = create_app(settings, ledger=ledger, parser=parser)
    try:
        with TestClient(app, raise_server_exceptions=True) as client:
            yield Channels(client=client, app=app, ledger=ledger, clock=clock, url=url,
                           settings=settings, twilio=twilio[0] if twilio else None,
                           telegram=telegram[0] if telegram else None)
    finally:
        ledger.close()
    assert ledger_invariants_hold(url), "materialised balances disagree with the entries"


def ledger_invariants_hold(url: str) -> bool:
    from tests.ledger.support import make_config

    check = Backend(make_config(url))
    try:
        return check.check_invariants() == []
    finally:
        check.close()


@pytest.fixture
def channels(tmp_path: Path, channel_parser: Parser, nlu_cache_dir: Path,
             fake_twilio: FakeTwilio, fake_telegram: FakeTelegram,
             twilio_server: tuple[FakeTwilio, RunningServer],
             telegram_server: tuple[FakeTelegram, RunningServer]) -> Iterator[Channels]:
    """Both channels configured, on SQLite."""
    with running_channels(f"sqlite:///{tmp_path / 'channels.db'}", channel_parser,
                          twilio=twilio_server, telegram=telegram_server,
                          nlu_cache_dir=nlu_cache_dir) as made:
        yield made


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def channels_any_db(request: pytest.FixtureRequest, tmp_path: Path, channel_parser: Parser,
                    nlu_cache_dir: Path, fake_twilio: FakeTwilio, fake_telegram: FakeTelegram,
                    twilio_server: tuple[FakeTwilio, RunningServer],
                    telegram_server: tuple[FakeTelegram, RunningServer]) -> Iterator[Channels]:
    """Both channels configured, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'channels.db'}"
    else:
        url = str(request.getfixturevalue("postgres_demo_url"))
    with running_channels(url, channel_parser, twilio=twilio_server, telegram=telegram_server,
                          nlu_cache_dir=nlu_cache_dir) as made:
        yield made


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None,
) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return dict(body)


# --- Twilio Voice --------------------------------------------------------------------------

TWILIO_VOICE_PATH = "/webhooks/twilio/voice"
_call_sids = itertools.count(1)


def new_call_sid() -> str:
    return f"CA{next(_call_sids):032x}"


def voice_params(caller: str, sid: str, **fields: str) -> dict[str, str]:
    """The form Twilio posts to a voice URL (the fields of a real Voice webhook), plus
    `fields` (SpeechResult, Confidence, Digits, DialCallStatus, CallStatus)."""
    form = {
        "AccountSid": TWILIO_SID, "ApiVersion": "2010-04-01", "CallSid": sid,
        "CallStatus": "in-progress", "Called": TWILIO_FROM, "Caller": caller, "Direction":
        "inbound", "From": caller, "FromCountry": "DK", "To": TWILIO_FROM, "ToCountry": "DK",
    }
    form.update(fields)
    return form


@dataclass
class Call:
    """One phone call against the app: each request signed for PUBLIC_BASE_URL, path and step
    as Twilio signs it; `next_step` follows the action URL of the last answer."""

    channels: Channels
    caller: str
    sid: str = field(default_factory=new_call_sid)
    next_step: int = 0
    last: httpx.Response | None = None

    def post(self, path: str, form: dict[str, str], *,
             signature: str | None | Callable[[dict[str, str], str], str] = "compute"
             ) -> httpx.Response:
        url = PUBLIC_BASE_URL + path
        headers: dict[str, str] = {}
        if signature == "compute":
            headers["X-Twilio-Signature"] = twilio_signature(form, url=url)
        elif callable(signature):
            headers["X-Twilio-Signature"] = signature(form, url)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self.channels.client.post(path, data=form, headers=headers)

    def start(self, **kwargs: Any) -> httpx.Response:
        response = self.post(TWILIO_VOICE_PATH, voice_params(self.caller, self.sid,
                                                             CallStatus="ringing"), **kwargs)
        return self._followed(response)

    def gather(self, *, speech: str = "", confidence: str = "0.92", digits: str = "",
               step: int | None = None, **kwargs: Any) -> httpx.Response:
        fields = {"Digits": digits} if digits else {"SpeechResult": speech,
                                                      "Confidence": confidence}
        if not digits and not speech:
            fields = {}
        path = f"{TWILIO_VOICE_PATH}/gather?step={self.next_step if step is None else step}"
        return self._followed(self.post(path, voice_params(self.caller, self.sid, **fields),
                                        **kwargs))

    def say(self, speech: str, **kwargs: Any) -> TwimlCall:
        return twiml_call_parts(_ok(self.gather(speech=speech, **kwargs)))

    def keys(self, digits: str) -> TwimlCall:
        return twiml_call_parts(_ok(self.gather(digits=digits)))

    def dial_ended(self, status: str) -> TwimlCall:
        path = f"{TWILIO_VOICE_PATH}/dial?step={self.next_step}"
        return twiml_call_parts(_ok(self._followed(self.post(
            path, voice_params(self.caller, self.sid, DialCallStatus=status)))))

    def hang_up(self, status: str = "completed") -> httpx.Response:
        return self.post(f"{TWILIO_VOICE_PATH}/status",
                         voice_params(self.caller, self.sid, CallStatus=status))

    def _followed(self, response: httpx.Response) -> httpx.Response:
        self.last = response
        if response.status_code == 200:
            parts = twiml_call_parts(response.text)
            if parts.next_step is not None:
                self.next_step = parts.next_step
        return response


def _ok(response: httpx.Response) -> str:
    assert response.status_code == 200, (response.status_code, response.text)
    return response.text


@dataclass
class TwimlCall:
    """A voice TwiML answer, parsed: what is said, and what the call does next."""

    said: list[str]
    slow: list[str]
    gather: dict[str, str] | None
    dial: str | None
    dial_action: str | None
    hangup: bool
    languages: set[str]

    @property
    def text(self) -> str:
        return " ".join(self.said)

    @property
    def next_step(self) -> int | None:
        action = (self.gather or {}).get("action") or self.dial_action
        if not action or "step=" not in action:
            return None
        return int(action.split("step=")[1])


def twiml_call_parts(xml: str) -> TwimlCall:
    """Parses a voice TwiML <Response>; fails if it is not one."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "Response", xml
    said, slow, languages = [], [], set()
    gather_el = root.find("Gather")
    holders = [gather_el] if gather_el is not None else [root]
    for holder in holders:
        for say in holder.findall("Say"):
            languages.add(say.get("language", ""))
            prosody = say.find("prosody")
            words = (prosody.text if prosody is not None else say.text) or ""
            said.append(words)
            if prosody is not None and prosody.get("rate") == "slow":
                slow.append(words)
    dial = root.find("Dial")
    return TwimlCall(
        said=said, slow=slow, gather=dict(gather_el.attrib) if gather_el is not None else None,
        dial=(dial.text or "").strip() if dial is not None else None,
        dial_action=dial.get("action") if dial is not None else None,
        hangup=root.find("Hangup") is not None, languages=languages)
