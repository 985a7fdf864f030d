"""The real app on a loopback port, as a browser sees it, wired to the fake Twilio API.

Unlike tests/api (TestClient, outbox delivered by hand) the server here is uvicorn in a thread
with its lifespan on, so the app's own outbox worker delivers SMS to the fake Twilio server in
the background, exactly as in production. The app builds its own ledger with the real clock
from the settings; tests reach it as ``live.ledger`` (e.g. to seed more data).

Everything a test does from the main thread must be synchronous: Playwright's sync API keeps
an event loop marked "running" in that thread while the browser is open.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from api.app import create_app
from api.demo_seed import seed
from ledger import Ledger
from nlu import Parser
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


@dataclass
class LiveServer:
    """The running app, its database and the fake Twilio it sends through."""

    url: str
    app: FastAPI
    database_url: str
    twilio: FakeTwilio
    http: httpx.Client

    @property
    def ledger(self) -> Ledger:
        """The live app's own ledger: writes here are what the browser sees next."""
        ledger: Ledger = self.app.state.ledger
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
    app = create_app(settings, parser=parser)
    try:
        if seeded:
            # The ledger's clock is UTC; the demo data is dated relative to its today.
            seed(app.state.ledger, dt.datetime.now(dt.UTC).date())
        with serve_asgi(app, sock=sock, lifespan="on") as server, \
                httpx.Client(base_url=server.url, timeout=20.0) as http:
            yield LiveServer(url=server.url, app=app, database_url=database_url,
                             twilio=fake, http=http)
    finally:
        sock.close()
        app.state.ledger.close()  # the lifespan closed it already unless seeding failed
    assert ledger_invariants_hold(database_url), "materialised balances disagree with entries"
