"""The real app on a loopback port, as a browser sees it, wired to the fake Twilio API.

Unlike tests/api (TestClient, outbox delivered by hand) the server here is uvicorn in a thread
with its lifespan on, so the app's own outbox worker delivers SMS to the fake Twilio server in
the background, exactly as in production. The app builds its own ledger with the real clock
from the settings; tests reach it as ``live.ledger`` (e.g. to seed more data).

Everything a test does from the main thread must be synchronous: Playwright's sync API keeps
an event loop marked "running" in that thread while the browser is open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from api.app import create_app
from api.bootstrap import Backend
from db.config import StaffConfig
from db.conversation_tables import OutboxMessage
from db.tables import WageReport
from db.unit_of_work import danish_day
from nlu import Parser
from sampledata.demo import seed, seed_staff
from tests.api.channel_fixtures import (
    AUTH,
    TWILIO_SMS_PATH,
    channel_settings,
    ledger_invariants_hold,
    twilio_params,
    twilio_signature,
    twiml_messages,
)
from tests.fakes.http_server import RunningServer, bound_socket, serve_asgi
from tests.fakes.twilio_api import FakeTwilio
from tests.ledger.support import prepare_database

OUTBOX_POLL_S = 0.2
"""Short, so an SMS queued without a kick still leaves within a fraction of a second."""
DEMO_PASSWORD = "demo-konsol-2026"
"""The documented password of the demo console users (README, sampledata/data/demo.yml)."""
LogIn = Callable[..., None]
"""The `log_in` fixture (conftest.py): ``log_in("sagsbehandler.aarhus")``, or ``password=``."""
CHEAP_ARGON2 = StaffConfig(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
"""Console passwords hashed cheaply (as in tests/api/console): the production parameters cost
about half a second per hash here, for the four demo users of every test and every login."""


@dataclass
class LiveServer:
    """The running app, its database and the fake Twilio it sends through."""

    url: str
    app: FastAPI
    database_url: str
    twilio: FakeTwilio
    http: httpx.Client

    @property
    def ledger(self) -> Backend:
        """The live app's own ledger: writes here are what the browser sees next."""
        ledger: Backend = self.app.state.ledger
        return ledger

    def post_sms(self, from_number: str, text: str, *, sid: str | None = None) -> httpx.Response:
        """An inbound SMS as Twilio posts it, signed for this server's PUBLIC_BASE_URL."""
        form = twilio_params(from_number, text, sid=sid)
        signature = twilio_signature(form, url=self.url + TWILIO_SMS_PATH)
        return self.http.post(TWILIO_SMS_PATH, data=form,
                              headers={"X-Twilio-Signature": signature})

    def send_sms(self, from_number: str, text: str, *, sid: str | None = None) -> list[str]:
        """Posts a signed inbound SMS; returns the replies of the TwiML answer."""
        response = self.post_sms(from_number, text, sid=sid)
        assert response.status_code == 200, (response.status_code, response.text)
        return twiml_messages(response.text)

    def wait_for_sms(self, to_number: str, contains: str = "",
                     timeout: float = 10.0) -> dict[str, Any]:
        """The first SMS the fake Twilio accepted for ``to_number`` whose body contains
        ``contains``; polls because the outbox worker delivers in the background."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.twilio.messages():
                if message.get("To") == to_number and contains in message.get("Body", ""):
                    return message
            if time.monotonic() > deadline:
                seen = [(m.get("To"), m.get("Body")) for m in self.twilio.messages()]
                raise AssertionError(
                    f"no SMS to {to_number} containing {contains!r} within {timeout}s; "
                    f"the fake Twilio received {seen}")
            time.sleep(0.05)

    def admin(self, method: str, path: str, *, status: int = 200, **kwargs: Any) -> Any:
        """A call to the REST API with the admin key; asserts the status, returns the JSON."""
        response = self.http.request(method, path, headers=AUTH, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json()

    def dialogue(self, from_number: str, turns: list[tuple[str, str]]) -> str:
        """Sends each text in turn over the signed webhook and checks that the bot's answer
        contains the expected words; returns the last answer. A wrong answer fails naming the
        turn, so a changed bot text is easy to find."""
        answer = ""
        for number, (text, expected) in enumerate(turns, start=1):
            replies = self.send_sms(from_number, text)
            answer = "\n".join(replies)
            assert expected in answer, (
                f"turn {number}: {from_number} wrote {text!r} and expected {expected!r} in "
                f"the answer, which was {answer!r}")
        return answer

    def wait_until_sent(self, to_number: str, timeout: float = 10.0) -> None:
        """Until the outbox has marked every message to ``to_number`` sent: the provider may
        have received an SMS (``wait_for_sms``) a while before it answered and the worker
        recorded the delivery."""
        def states() -> list[str]:
            return list(self.ledger.run_read(lambda uow: uow.session.scalars(
                sa.select(OutboxMessage.status).where(OutboxMessage.recipient == to_number)
            ).all()))
        deadline = time.monotonic() + timeout
        while not (seen := states()) or any(state != "sent" for state in seen):
            if time.monotonic() > deadline:
                raise AssertionError(f"the outbox to {to_number} is {seen} after {timeout}s")
            time.sleep(0.05)

    def wage_report_count(self) -> int:
        """Every wage report the ledger holds (posted, pending or refused-and-kept alike)."""
        return int(self.ledger.run_read(
            lambda uow: uow.session.scalar(sa.select(sa.func.count()).select_from(WageReport))))


# --- citizens and employers over SMS (the bot's own dialogues, tests/bot/scenarios) ----------


def ask_for_a_person(live: LiveServer, phone: str) -> None:
    """Asks for a human in words: the conversation is escalated at once (waiting)."""
    live.dialogue(phone, [("kan jeg tale med en person", "24 timer")])


def apply_by_sms(live: LiveServer, phone: str, *, name: str, cpr: str,
                 postcode: str = "8000") -> str:
    """The bot's application dialogue (bot/flows/apply_card.py) from an unknown phone; returns
    the bot's last answer ("Din ansøgning er sendt til ... Kommune ...")."""
    turns = [
        ("jeg vil søge et frikort", "fulde navn"),
        (name, "CPR-nummer"),
        (cpr, "postnummer"),
        (postcode, "Hvad lever du af"),
        ("kontanthjælp", "Må kommunen bruge"),
        ("ja", "arbejde med"),
        ("rengøring og lager", "kontaktes"),
        ("sms", "hjælper"),
        ("nej", "Svar JA for at sende"),
        ("ja", "ansøgning er sendt til"),
    ]
    return live.dialogue(phone, turns)


@contextmanager
def live_app(database_url: str, parser: Parser, twilio: tuple[FakeTwilio, RunningServer], *,
             seeded: bool = True, **overrides: Any) -> Iterator[LiveServer]:
    """Migrates ``database_url``, builds the app from settings naming its own loopback URL,
    optionally loads the demo data, and serves it until the block exits."""
    prepare_database(database_url)
    fake, fake_server = twilio
    sock = bound_socket()
    url = "http://{}:{}".format(*sock.getsockname()[:2])
    settings = channel_settings(
        database_url, twilio=fake_server, telegram=None, PUBLIC_BASE_URL=url,
        RUN_BACKGROUND_WORKER=True, OUTBOX_POLL_SECONDS=OUTBOX_POLL_S, DEMO_CHAT=True,
        WARM_NLU_AT_START=False, **overrides)
    # The app's own ledger as the server would build it (real clock), but with cheap argon2.
    ledger = Backend(dataclasses.replace(settings.ledger, staff=CHEAP_ARGON2))
    app = create_app(settings, ledger=ledger, parser=parser)
    try:
        if seeded:
            # The demo data is dated relative to the ledger's today: the Danish day, as
            # `frikort demo seed` has it (after 23:00 UTC in winter the UTC date is yesterday
            # there, and on 31 December last year: no demo cap or balance for this year).
            seed(app.state.ledger, app.state.ledger.tasks, danish_day(dt.datetime.now(dt.UTC)))
            # And the documented demo console users, as `frikort demo seed` adds them.
            seed_staff(app.state.ledger.staff)
        with serve_asgi(app, sock=sock, lifespan="on") as server, \
                httpx.Client(base_url=server.url, timeout=20.0) as http:
            yield LiveServer(url=server.url, app=app, database_url=database_url,
                             twilio=fake, http=http)
    finally:
        sock.close()
        ledger.close()  # ours, not the lifespan's: create_app was given it
    assert ledger_invariants_hold(database_url), "materialised balances disagree with entries"
