"""The servers of the floor benchmark (`benchmarks.load.floor`): each does a little more of the
work one SMS turn cannot do without, so the difference between two rows is what that work
costs on this machine.

- ``bare``: an ASGI callable that reads the request and answers a fixed TwiML reply;
- ``signed``: + the form parsed by Starlette (python-multipart), the Twilio signature checked
  over PUBLIC_BASE_URL with our own `is_valid_twilio_signature`, the TwiML built by our own
  `twiml_reply`, as the webhook does;
- ``stored``: + the database work our guarantees need, in plain psycopg (async, no ORM, no
  thread hop), on the real schema: the inbound stored under its unique (channel, MessageSid)
  key in one autocommitted statement (the conversation's id found by its address), then one
  transaction that locks the conversation and the message (the replay check) and writes the
  state, the reply and the answered message in one statement; a retry gets the stored reply.
  Three round trips per turn (the transaction's BEGIN and COMMIT ride in psycopg's pipeline).

Run by the bench as ``python -m benchmarks.load.floor_apps LEVEL --port P --workers N``, under
uvicorn with the options `frikort serve` uses (uvloop and httptools when installed, no access
log), configured by the environment: FLOOR_TWILIO_TOKEN, FLOOR_PUBLIC_URL, FLOOR_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import psycopg
import uvicorn
from starlette.requests import Request

from api.channels.twilio_inbound import is_valid_twilio_signature, twiml_reply
from api.cli.serve import WORKER_HEALTHCHECK_S

__all__ = ["LEVELS", "REPLY", "bare", "signed", "stored"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

LEVELS = ("bare", "signed", "stored")
REPLY = ("Du må tjene op til 27.000 kr. skattefrit om året på et frikort, hvis du er under 18 "
         "eller på kontanthjælp, ledighedsydelse eller førtidspension. Skriv SALDO for at se, "
         "hvor meget du har tjent i år.")
"""About as long as a real FAQ answer; every level answers it (fragments are not checked)."""
_TWIML = twiml_reply([REPLY]).encode()
_HEADERS = [(b"content-type", b"application/xml"),
            (b"content-length", str(len(_TWIML)).encode())]
POOL_SIZE = 8
"""Connections per worker for ``stored``: more than the turns a worker runs at once."""


async def _drain(receive: Receive) -> None:
    more = True
    while more:
        message = await receive()
        more = bool(message.get("more_body", False))


async def _answer(send: Send, body: bytes, status: int = 200) -> None:
    headers = _HEADERS if body is _TWIML else [
        (b"content-type", b"application/xml"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send,
                    on_stop: Callable[[], Awaitable[None]] | None = None) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if on_stop is not None:
                await on_stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


def bare() -> App:
    """(a) The fixed reply: what uvicorn, the event loop and HTTP cost alone."""
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        await _drain(receive)
        await _answer(send, _TWIML)
    return app


class _Signed:
    """The checks of our SMS webhook: the form, its signature, the fields it needs."""

    def __init__(self) -> None:
        self.token = os.environ["FLOOR_TWILIO_TOKEN"]
        self.base = os.environ["FLOOR_PUBLIC_URL"].rstrip("/")

    async def form(self, scope: Scope, receive: Receive) -> dict[str, str] | None:
        request = Request(scope, receive)
        form = await request.form()
        params = {key: str(value) for key, value in form.items()}
        url = self.base + request.url.path
        if request.url.query:
            url = f"{url}?{request.url.query}"
        signature = request.headers.get("X-Twilio-Signature")
        if not is_valid_twilio_signature(self.token, url, params, signature):
            return None
        if not params.get("MessageSid") or not params.get("From"):
            return None
        return params


def signed() -> App:
    """(b) + the form, the signature check and the TwiML built per request."""
    checks = _Signed()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        params = await checks.form(scope, receive)
        if params is None:
            await _answer(send, b"forbidden", 403)
            return
        await _answer(send, twiml_reply([REPLY]).encode())
    return app


_STORE = (
    "INSERT INTO transcript_messages (conversation_id, direction, channel, provider_message_id,"
    " author, text, created_at) SELECT id, 'in', 'sms', %(sid)s, 'user', %(text)s, now()"
    " FROM conversations WHERE channel = 'sms' AND address = %(address)s"
    " ON CONFLICT (channel, provider_message_id) DO NOTHING RETURNING id")
_NEW_CONVERSATION = (
    "INSERT INTO conversations (channel, address, state_json, handoff, opted_out,"
    " last_activity_at, created_at) VALUES ('sms', %(address)s, '{}', 'bot', false, now(),"
    " now()) ON CONFLICT (channel, address) DO NOTHING")
_STORED = ("SELECT id FROM transcript_messages WHERE channel = 'sms'"
           " AND provider_message_id = %(sid)s")
_LOCK = (
    "SELECT c.id, c.state_json, m.processed_at, m.replies_json FROM conversations c"
    " JOIN transcript_messages m ON m.conversation_id = c.id"
    " WHERE c.channel = 'sms' AND c.address = %(address)s AND m.id = %(inbound)s FOR UPDATE")
_WRITE = (
    "WITH state AS (UPDATE conversations SET state_json = %(state)s, last_activity_at = now()"
    " WHERE id = %(conversation)s), reply AS (INSERT INTO transcript_messages"
    " (conversation_id, direction, channel, author, text, created_at)"
    " VALUES (%(conversation)s, 'out', 'sms', 'bot', %(reply)s, now()))"
    " UPDATE transcript_messages SET intent = 'faq', replies_json = %(replies)s,"
    " processed_at = now() WHERE id = %(inbound)s")


class _Pool:
    """A few autocommit connections per worker (psycopg_pool is not a dependency)."""

    def __init__(self, conninfo: str, size: int) -> None:
        self._conninfo = conninfo
        self._free: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
        self._left = size
        self._all: list[psycopg.AsyncConnection[Any]] = []

    async def get(self) -> psycopg.AsyncConnection[Any]:
        if self._free.empty() and self._left > 0:
            self._left -= 1
            conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            self._all.append(conn)
            return conn
        return await self._free.get()

    def put(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if conn.closed:
            self._all.remove(conn)
            self._left += 1
        else:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()


async def _turn(conn: psycopg.AsyncConnection[Any], address: str, sid: str,
                text: str) -> list[str]:
    """Store, then answer under the lock: the guarantees of `Dialogue.handle`, nothing more."""
    params = {"sid": sid, "text": text, "address": address}
    row = await (await conn.execute(_STORE, params)).fetchone()
    if row is None:  # a first message (no conversation yet), or a provider's retry
        await conn.execute(_NEW_CONVERSATION, params)
        row = await (await conn.execute(_STORE, params)).fetchone()
        if row is None:
            row = await (await conn.execute(_STORED, params)).fetchone()
            if row is None:
                raise LookupError(f"inbound {sid} conflicted but is gone")
    inbound = int(row[0])
    try:
        async with conn.pipeline():
            await conn.execute("BEGIN")
            locked = await (await conn.execute(_LOCK, {"address": address,
                                                       "inbound": inbound})).fetchone()
            if locked is None:
                raise LookupError(f"inbound {inbound} is not in {address}'s conversation")
            conversation, state_json, processed_at, replies_json = locked
            if processed_at is not None:  # a retry answered while we waited for the lock
                await conn.execute("COMMIT")
                return list(json.loads(replies_json or "[]"))
            state = json.loads(state_json or "{}")
            state["last"] = {"intent": "faq", "turns": int(state.get("last", {})
                                                          .get("turns", 0)) + 1}
            await conn.execute(_WRITE, {
                "state": json.dumps(state), "conversation": conversation, "reply": REPLY,
                "replies": json.dumps([REPLY], ensure_ascii=False), "inbound": inbound})
            await conn.execute("COMMIT")
    except BaseException:
        if not conn.closed:
            await conn.execute("ROLLBACK")
        raise
    return [REPLY]


def stored() -> App:
    """(c) + the inbound stored and the turn written under the row lock (see the module)."""
    checks = _Signed()
    pool = _Pool(os.environ["FLOOR_DATABASE_URL"], POOL_SIZE)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, pool.close)
            return
        params = await checks.form(scope, receive)
        if params is None:
            await _answer(send, b"forbidden", 403)
            return
        conn = await pool.get()
        try:
            replies = await _turn(conn, params["From"], params["MessageSid"],
                                  params.get("Body", ""))
        except (psycopg.Error, LookupError):
            await conn.close()
            await _answer(send, b"database", 503)
            return
        finally:
            pool.put(conn)
        await _answer(send, twiml_reply(replies).encode())
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.floor_apps")
    parser.add_argument("level", choices=LEVELS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    # As `frikort serve` runs uvicorn (api/cli/serve.py uvicorn_options), without our logging.
    uvicorn.run(f"benchmarks.load.floor_apps:{args.level}", factory=True, host=args.host,
                port=args.port, workers=args.workers, log_level="warning", log_config=None,
                access_log=False, timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
                proxy_headers=False)


if __name__ == "__main__":
    main()
