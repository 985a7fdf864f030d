"""A fake Telegram Bot API on loopback: ``POST /bot{token}/{method}``.

    telegram = FakeTelegram(token=TOKEN)
    with serve_asgi(telegram.app) as server:
        sender = TelegramSender(TOKEN, server.url)     # PTB calls {url}/bot{token}/sendMessage
        telegram.fail("rate_limited", times=1)
        ...
        telegram.calls("sendMessage")                  # decoded parameters of each call

Methods: getMe, sendMessage, answerCallbackQuery, setWebhook, deleteWebhook, getWebhookInfo.
Parameters are accepted as JSON or as a form (PTB sends a form, JSON-encoding non-string values
such as ``reply_markup``); the log holds them decoded, so ``chat_id`` is the string "42" and
``reply_markup`` a dict.

Modes (for every method but getMe, unless ``methods`` says otherwise): "ok"; "error_500";
"timeout" (answers only after ``slow_delay_s``); "rate_limited" (429 with
``parameters.retry_after``); "permanent" (400 "Bad Request: chat not found"); "blocked" (403
"Forbidden: bot was blocked by the user"). A wrong token is answered 401 "Unauthorized" and an
unknown method 404 "Not Found", as the real API does.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.recording import FailureSwitch, RecordedRequest, RequestLog, wait_interruptibly

__all__ = ["FakeTelegram", "TelegramMode"]

TelegramMode = Literal["ok", "error_500", "timeout", "rate_limited", "permanent", "blocked"]

# Form fields whose value PTB JSON-encodes (everything non-string); decoded for the log.
_JSON_FIELDS = frozenset(
    {"reply_markup", "allowed_updates", "entities", "link_preview_options", "reply_parameters"}
)


def _ok(result: Any, description: str | None = None) -> Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return JSONResponse(body)


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)


class FakeTelegram:
    def __init__(
        self,
        *,
        token: str = "123456789:TEST-fake-token_abcdefghijklmnopqrs",
        slow_delay_s: float = 3.0,
        retry_after_s: int = 5,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.slow_delay_s = slow_delay_s
        self.retry_after_s = retry_after_s
        self.log = RequestLog()
        self.webhook: dict[str, Any] = {}
        self._switch = FailureSwitch()
        self._fail_methods: frozenset[str] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1001)

    def fail(
        self, mode: TelegramMode, *, times: int | None = None, methods: Iterable[str] | None = None
    ) -> None:
        """Answer the next ``times`` calls (all, when None) with ``mode``, then "ok".

        ``methods`` limits which API methods fail; by default every method except getMe.
        """
        with self._lock:
            self._fail_methods = frozenset(methods) if methods is not None else None
        self._switch.set(mode, times=times)

    @property
    def mode(self) -> str:
        return self._switch.mode

    def release(self) -> None:
        """Ends any "timeout" sleeps at once (call before stopping the server)."""
        self._stop.set()

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.log.all()

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Decoded parameters of every call of ``method`` received, failed ones included."""
        suffix = f"/{method}"
        return [r.params for r in self.log.all() if r.path.endswith(suffix)]

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/bot{token}/{method}", self._dispatch, methods=["GET", "POST"])]
        )

    def _fails(self, method: str) -> bool:
        with self._lock:
            if self._fail_methods is None:
                return method != "getMe"
            return method in self._fail_methods

    async def _dispatch(self, request: Request) -> Response:
        token = request.path_params["token"]
        method = request.path_params["method"]
        params = await self._params(request)
        if not secrets.compare_digest(token, self.token):
            mode = "unauthorized"
        elif self._fails(method):
            mode = self._switch.take()
        else:
            mode = "ok"
        self.log.append(
            RecordedRequest(
                method=request.method,
                path=request.url.path.replace(token, "<token>"),
                headers=dict(request.headers),
                params=params,
                answered_with=mode,
            )
        )
        if mode == "unauthorized":
            return _error(401, "Unauthorized")
        if mode == "error_500":
            return _error(500, "Internal Server Error")
        if mode == "rate_limited":
            return _error(
                429,
                f"Too Many Requests: retry after {self.retry_after_s}",
                {"retry_after": self.retry_after_s},
            )
        if mode == "permanent":
            return _error(400, "Bad Request: chat not found")
        if mode == "blocked":
            return _error(403, "Forbidden: bot was blocked by the user")
        if mode == "timeout":
            await wait_interruptibly(self.slow_delay_s, self._stop)
        handler = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }.get(method)
        if handler is None:
            return _error(404, "Not Found")
        return handler(params)

    @staticmethod
    async def _params(request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = await request.body()
            return dict(json.loads(body)) if body else {}
        if request.method == "GET":
            return dict(request.query_params)
        form = await request.form()
        params: dict[str, Any] = {}
        for key, value in form.items():
            text = str(value)
            params[key] = json.loads(text) if key in _JSON_FIELDS else text
        return params

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Frikort-assistenten",
            "username": "frikort_test_bot",
        }

    def _get_me(self, params: dict[str, Any]) -> Response:
        return _ok(
            {
                **self._bot_user(),
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    def _send_message(self, params: dict[str, Any]) -> Response:
        chat_id = str(params.get("chat_id", ""))
        text = params.get("text")
        if not chat_id.lstrip("-").isdigit():
            return _error(400, "Bad Request: chat not found")
        if not text:
            return _error(400, "Bad Request: message text is empty")
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._bot_user(),
            "chat": {"id": int(chat_id), "first_name": "Test", "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return _ok(message)

    def _answer_callback_query(self, params: dict[str, Any]) -> Response:
        if not params.get("callback_query_id"):
            return _error(400, "Bad Request: query is too old and response timeout expired")
        return _ok(True)

    def _set_webhook(self, params: dict[str, Any]) -> Response:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://"):
            return _error(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        with self._lock:
            self.webhook = dict(params)
        return _ok(True, "Webhook was set")

    def _delete_webhook(self, params: dict[str, Any]) -> Response:
        with self._lock:
            self.webhook = {}
        return _ok(True, "Webhook was deleted")

    def _get_webhook_info(self, params: dict[str, Any]) -> Response:
        with self._lock:
            url = str(self.webhook.get("url", ""))
        return _ok({"url": url, "has_custom_certificate": False, "pending_update_count": 0})
