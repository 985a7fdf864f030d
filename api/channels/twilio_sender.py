"""SMS out through Twilio's Messages API (``client.messages.create``).

The twilio client is synchronous (``requests``), so each send runs in a worker thread. The API
host is a setting (``TWILIO_API_BASE_URL``): tests point it at a fake on loopback.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, SupportsInt

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from api.channels.senders import DeliveryError, OutboundMessage

__all__ = ["TwilioSender"]

# 4xx codes that say "not now" rather than "never": 20429 Too Many Requests,
# 21611 the From number's queue is full.
_TRANSIENT_CODES = frozenset({20429, 21611})


class _ThreadLocalResponseClient(TwilioHttpClient):
    """Remembers the last response per thread, so a 429's Retry-After header can be read.

    The twilio exceptions carry status and code but not headers. One session per request
    (``pool_connections=False``) keeps concurrent sends in different threads independent.
    """

    def __init__(self, *, timeout: float) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self._local = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> Response:
        self._local.response = None
        response = super().request(*args, **kwargs)
        self._local.response = response
        return response

    @property
    def thread_last_response(self) -> Response | None:
        return getattr(self._local, "response", None)


class TwilioSender:
    """Sends SMS with the twilio package.

    Buttons are ignored: SMS has none, the composer writes the choices into the text.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str = "https://api.twilio.com",
        *,
        timeout_s: float = 10.0,
    ) -> None:
        self._from_number = from_number
        self._http = _ThreadLocalResponseClient(timeout=timeout_s)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        # The client rewrites hostnames when TWILIO_EDGE / TWILIO_REGION are in the environment;
        # our base URL is explicit, so switch that off.
        self._client.edge = None
        self._client.region = None
        # twilio.base.domain.Domain.absolute_url() joins base_url and the resource path.
        self._client.api.base_url = api_base_url.rstrip("/")

    async def send(self, message: OutboundMessage) -> str:
        if message.channel != "sms":
            raise ValueError(f"TwilioSender cannot send {message.channel!r} messages")
        return await asyncio.to_thread(self._send_blocking, message)

    def _send_blocking(self, message: OutboundMessage) -> str:
        try:
            created = self._client.messages.create(
                to=message.to, from_=self._from_number, body=message.text
            )
        except requests.Timeout as exc:
            raise DeliveryError("Twilio did not answer in time", transient=True) from exc
        except requests.RequestException as exc:
            raise DeliveryError(
                f"Could not reach Twilio: {type(exc).__name__}", transient=True
            ) from exc
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._classify(exc) from exc
        except TwilioException as exc:
            raise DeliveryError(f"Unexpected Twilio response: {exc}", transient=True) from exc
        if not created.sid:
            raise DeliveryError("Twilio accepted the message without a SID", transient=True)
        return str(created.sid)

    def _classify(self, exc: TwilioRestException | TwilioServiceException) -> DeliveryError:
        status = int(exc.status)
        code = _int_or_none(exc.code)
        detail = exc.msg if isinstance(exc, TwilioRestException) else exc.title
        text = f"Twilio refused the message (HTTP {status}, code {code}): {detail}"
        code_text = str(code if code is not None else status)
        if status == 429 or code == 20429:
            response = self._http.thread_last_response
            retry_after = _retry_after_seconds(response.headers if response else None)
            return DeliveryError(text, transient=True, retry_after=retry_after, code=code_text)
        if status >= 500 or code in _TRANSIENT_CODES:
            return DeliveryError(text, transient=True, code=code_text)
        return DeliveryError(text, transient=False, code=code_text)


def _int_or_none(value: str | SupportsInt | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _retry_after_seconds(headers: Any) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not headers:
        return None
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
