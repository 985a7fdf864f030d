"""What every request meets before the routes: which Host it may name, which proxy may tell
us the client's address, how large its body may be, and where our redirects point.

* Host: only PUBLIC_BASE_URL's host, ALLOWED_HOSTS and, in development, loopback names;
  anything else is 400 before any route runs (Starlette's TrustedHostMiddleware). Before,
  `Host: evil.example` on /api/v1/caps/ was answered with a redirect to http://evil.example.
* Redirects: an absolute Location pointing at the request's own host (Starlette builds one for
  a trailing slash) is rebuilt on PUBLIC_BASE_URL, so the scheme and host are ours, also
  behind a proxy that speaks plain http to us.
* X-Forwarded-For / -Proto: believed only from FORWARDED_ALLOW_IPS (default: nobody).
  uvicorn would otherwise believe them from any loopback client, so anyone reaching the
  server through a local proxy could choose the address the console's login lock counts.
* Bodies: more than MAX_BODY_BYTES is 413 before anything parses it, by its Content-Length
  or, without one, as soon as that much has arrived.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.problems import http_problem
from api.settings import Settings

MAX_BODY_BYTES = 64 * 1024
"""Nothing we accept comes close: an SMS webhook is under 2 kB, a Telegram update under 10 kB."""
LARGER_BODIES = {"/api/v1/wage-reports/batch": 1024 * 1024}
"""The exceptions, by exact path: a batch of 1.000 wage reports is about 250 kB."""


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodySizeLimit:
    """413 for a body over `limit` bytes, before the app reads it (pure ASGI)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = LARGER_BODIES.get(str(scope.get("path", "")), self.limit)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await http_problem(413, "payload_too_large")(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException: the framework answers it (as 413) wherever the body
                    # is being read, instead of turning it into a parse error.
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


class LocationOnPublicBase:
    """Rewrites an absolute Location on the request's own host to PUBLIC_BASE_URL."""

    def __init__(self, app: ASGIApp, public_base_url: str) -> None:
        self.app = app
        base = urlsplit(public_base_url)
        self.scheme, self.netloc = base.scheme, base.netloc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        own_host = Headers(scope=scope).get("host", "")

        async def send_rebased(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                location = headers.get("location")
                if location:
                    target = urlsplit(location)
                    if target.netloc and target.netloc == own_host:
                        headers["location"] = target._replace(
                            scheme=self.scheme, netloc=self.netloc).geturl()
            await send(message)

        await self.app(scope, receive, send_rebased)


def install_edge(app: FastAPI, settings: Settings) -> None:
    """Host check, redirects and the body limit; call before install_metrics, so every
    refusal still gets its access line and request id."""
    app.add_middleware(BodySizeLimit)
    app.add_middleware(LocationOnPublicBase,
                       public_base_url=settings.PUBLIC_BASE_URL)
    app.add_middleware(TrustedHostMiddleware,
                       allowed_hosts=settings.allowed_hosts, www_redirect=False)


def install_proxy_headers(app: FastAPI, settings: Settings) -> None:
    """Outermost: the client's address from X-Forwarded-For, only from FORWARDED_ALLOW_IPS.
    `frikort serve` switches uvicorn's own handling off (it trusts loopback by default)."""
    if settings.forwarded_allow_ips:
        app.add_middleware(ProxyHeadersMiddleware,
                           trusted_hosts=settings.forwarded_allow_ips)
