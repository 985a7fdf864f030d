"""Fake Telegram Bot API and Twilio Messages API on one loopback port, in the generator's loop.

The server under test delivers its outbox (Telegram replies, SMS notifications) here. Why not
tests/fakes (FakeTelegram, FakeTwilio under `serve_asgi`): those run Starlette under uvicorn in
a thread of this process, and their CPU and GIL time would be taken from the load generator
and blur its clock (see docs/load-bench.md for the figures). This one answers on the
generator's own event loop with a few dozen microseconds of work per call, and tells a waiting
Telegram conversation the moment its reply arrives, so the next turn waits for the reply the
user would see.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

__all__ = ["Delivered", "FakeProviders"]

_TWILIO_PREFIX = "/2010-04-01/Accounts/"


@dataclass(frozen=True)
class Delivered:
    """One message the server sent out: to whom, what, and when it arrived here."""

    at: float
    text: str


@dataclass
class _Waiter:
    fragments: tuple[str, ...]
    future: asyncio.Future[Delivered]


@dataclass
class ProviderCounts:
    telegram_messages: int = 0
    sms_messages: int = 0
    callbacks_answered: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class FakeProviders:
    """Answers sendMessage/getMe/answerCallbackQuery and Twilio's Messages.json create."""

    def __init__(self, *, bot_token: str, twilio_sid: str, twilio_token: str) -> None:
        self._bot_prefix = f"/bot{bot_token}/"
        self._bot_id = int(bot_token.split(":", 1)[0])
        self._twilio_path = f"{_TWILIO_PREFIX}{twilio_sid}/Messages.json"
        basic = base64.b64encode(f"{twilio_sid}:{twilio_token}".encode()).decode()
        self._twilio_auth = f"Basic {basic}"
        self._server: asyncio.Server | None = None
        self._waiters: dict[str, list[_Waiter]] = defaultdict(list)
        self._recent: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=4))
        self._with_buttons: dict[str, int] = {}
        """chat id -> message id of the newest message with inline buttons sent there."""
        self._ids = itertools.count(1001)
        self.counts = ProviderCounts()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def wait_for_telegram(self, chat_id: str, fragments: tuple[str, ...]) -> asyncio.Future[
            Delivered]:
        """Resolves with the next message to ``chat_id`` that contains every fragment."""
        future: asyncio.Future[Delivered] = asyncio.get_running_loop().create_future()
        self._waiters[chat_id].append(_Waiter(fragments, future))
        return future

    def forget(self, chat_id: str, future: asyncio.Future[Delivered]) -> None:
        self._waiters[chat_id] = [w for w in self._waiters[chat_id] if w.future is not future]

    def recent_telegram(self, chat_id: str) -> list[str]:
        """The last few texts sent to a chat, for an error report."""
        return list(self._recent[chat_id])

    # --- the HTTP side -----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                method, path, headers = _parse_request_head(head)
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                status, payload = self._route(method, path, headers, body)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    def _route(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, object]:
        params = _params(headers, body)
        if path.startswith(self._bot_prefix):
            return self._telegram(path[len(self._bot_prefix):], params)
        if path == self._twilio_path and method == "POST":
            if headers.get("authorization") != self._twilio_auth:
                self.counts.rejected["twilio_401"] += 1
                return 401, {"code": 20003, "message": "Authenticate", "status": 401}
            return self._twilio(params)
        self.counts.rejected["404"] += 1
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _telegram(self, api_method: str, params: dict[str, str]) -> tuple[int, object]:
        bot = {"id": self._bot_id, "is_bot": True, "first_name": "Frikort",
               "username": "frikort_load_bot"}
        if api_method == "getMe":
            return 200, {"ok": True, "result": {**bot, "can_join_groups": False,
                                                "can_read_all_group_messages": False,
                                                "supports_inline_queries": False}}
        if api_method == "answerCallbackQuery":
            self.counts.callbacks_answered += 1
            return 200, {"ok": True, "result": True}
        if api_method != "sendMessage":
            self.counts.rejected[f"telegram_{api_method}"] += 1
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        chat_id, text = params.get("chat_id", ""), params.get("text", "")
        if not chat_id.lstrip("-").isdigit() or not text:
            self.counts.rejected["telegram_400"] += 1
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request"}
        self.counts.telegram_messages += 1
        self._delivered(chat_id, text)
        message_id = next(self._ids)
        message = {"message_id": message_id, "from": bot, "date": int(time.time()),
                   "chat": {"id": int(chat_id), "first_name": "Load", "type": "private"},
                   "text": text}
        if params.get("reply_markup"):
            self._with_buttons[chat_id] = message_id
        return 200, {"ok": True, "result": message}

    def buttons_message_id(self, chat_id: str) -> int | None:
        """The message a button press in this chat belongs to (the server checks it)."""
        return self._with_buttons.get(chat_id)

    def _delivered(self, chat_id: str, text: str) -> None:
        self._recent[chat_id].append(text)
        arrived = Delivered(time.perf_counter(), text)
        waiters = self._waiters.get(chat_id)
        if not waiters:
            return
        for waiter in list(waiters):
            if waiter.future.done():
                waiters.remove(waiter)
            elif all(fragment in text for fragment in waiter.fragments):
                waiter.future.set_result(arrived)
                waiters.remove(waiter)

    def _twilio(self, params: dict[str, str]) -> tuple[int, object]:
        if not (params.get("To") and params.get("From") and params.get("Body")):
            self.counts.rejected["twilio_400"] += 1
            return 400, {"code": 21602, "message": "Message body is required.", "status": 400}
        self.counts.sms_messages += 1
        return 201, {"sid": "SM" + secrets.token_hex(16), "status": "queued",
                     "to": params["To"], "from": params["From"], "body": params["Body"],
                     "num_segments": "1", "direction": "outbound-api", "error_code": None}


def _parse_request_head(raw: bytes) -> tuple[str, str, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method, path.split("?", 1)[0], headers


def _params(headers: dict[str, str], body: bytes) -> dict[str, str]:
    if not body:
        return {}
    if headers.get("content-type", "").startswith("application/json"):
        loaded = json.loads(body)
        return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
