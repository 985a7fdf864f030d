"""A fake Twilio REST API on loopback: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``.

    twilio = FakeTwilio(account_sid=SID, auth_token=TOKEN)
    with serve_asgi(twilio.app) as server:
        sender = TwilioSender(SID, TOKEN, "+4570000000", server.url)
        twilio.fail("error_500", times=2)   # the next two creates fail, then it accepts again
        ...
        twilio.messages()                    # form fields of every create it received

Modes: "ok"; "error_500" (HTTP 500, code 20500); "timeout" (answers 201 only after
``slow_delay_s``); "rate_limited" (HTTP 429, code 20429, ``Retry-After``); "permanent" (HTTP 400,
code 21211 invalid To number); "unsubscribed" (HTTP 400, code 21610). Wrong HTTP basic auth is
always answered 401 with code 20003, as Twilio does.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.recording import FailureSwitch, RecordedRequest, RequestLog, wait_interruptibly

__all__ = ["FakeTwilio", "TwilioMode"]

TwilioMode = Literal["ok", "error_500", "timeout", "rate_limited", "permanent", "unsubscribed"]
API_VERSION = "2010-04-01"


def _rfc2822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


class FakeTwilio:
    def __init__(
        self,
        *,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "fake-auth-token",
        slow_delay_s: float = 3.0,
        retry_after_s: int = 7,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.slow_delay_s = slow_delay_s
        self.retry_after_s = retry_after_s
        self.log = RequestLog()
        self._switch = FailureSwitch()
        self._fail_to: str | None = None
        self._stop = threading.Event()

    def fail(self, mode: TwilioMode, *, times: int | None = None, to: str | None = None) -> None:
        """Answer the next ``times`` creates (all, when None) with ``mode``, then "ok"; with
        ``to``, only creates for that number count and fail (the worker sends to several
        recipients side by side, so "the next create" alone would not say whose)."""
        self._fail_to = to
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

    def messages(self) -> list[dict[str, Any]]:
        """The form fields (To, From, Body, ...) of every create request received."""
        return [r.params for r in self.log.all() if r.path.endswith("/Messages.json")]

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json",
                    self._create_message,
                    methods=["POST"],
                )
            ]
        )

    def _authorized(self, request: Request, path_sid: str) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (
            secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password, self.auth_token)
            and path_sid == self.account_sid
        )

    async def _create_message(self, request: Request) -> Response:
        form = await request.form()
        params = {key: str(value) for key, value in form.items()}
        path_sid = request.path_params["account_sid"]
        authorized = self._authorized(request, path_sid)
        if not authorized:
            mode = "unauthorized"
        elif self._fail_to is not None and params.get("To") != self._fail_to:
            mode = "ok"
        else:
            mode = self._switch.take()
        self.log.append(
            RecordedRequest(
                method=request.method,
                path=request.url.path,
                headers=dict(request.headers),
                params=params,
                answered_with=mode,
            )
        )
        if mode == "unauthorized":
            return _error(401, 20003, "Authenticate")
        if mode == "error_500":
            return _error(500, 20500, "An internal server error has occurred")
        if mode == "rate_limited":
            return _error(
                429, 20429, "Too Many Requests", headers={"Retry-After": str(self.retry_after_s)}
            )
        if mode == "permanent":
            return _error(400, 21211, f"Invalid 'To' Phone Number: {params.get('To', '')}")
        if mode == "unsubscribed":
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        if mode == "timeout":
            await wait_interruptibly(self.slow_delay_s, self._stop)
        for field_name, code, message in (
            ("To", 21604, "A 'To' phone number is required."),
            ("From", 21603, "A 'From' phone number is required."),
            ("Body", 21602, "Message body is required."),
        ):
            if not params.get(field_name):
                return _error(400, code, message)
        return JSONResponse(self._message_resource(params), status_code=201)

    def _message_resource(self, params: dict[str, str]) -> dict[str, Any]:
        """The JSON Twilio returns for a new outbound message, status "queued"."""
        sid = "SM" + secrets.token_hex(16)
        now = _rfc2822(datetime.now(UTC))
        base_uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": params["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": params["From"],
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{base_uri}/Media.json"},
            "to": params["To"],
            "uri": f"{base_uri}.json",
        }
