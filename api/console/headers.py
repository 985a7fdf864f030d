"""Security headers on every response under /console (pages, redirects, errors, static files),
including the page for an error nobody handled (a 500)."""

from __future__ import annotations

import html
import logging

from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.console.rendering import templates
from api.console.texts import error_text

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # No inline script or style, no framing, forms post only to us.
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # Pages show personal data: never keep them in a shared browser's cache.
    "Cache-Control": "no-store",
}


class ConsoleSecurityHeaders:
    """Pure ASGI middleware, so streaming responses and background tasks are untouched.

    An exception no handler took would otherwise reach Starlette's outermost error
    middleware, whose plain 500 skips this one: here it gets the console's Danish error page,
    with the headers, and is raised on so the server still logs it (the outer middleware
    sees the response started and sends nothing more).
    """

    def __init__(self, app: ASGIApp, prefix: str = "/console") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await server_error_page()(scope, receive, send_with_headers)
            raise


def server_error_page() -> HTMLResponse:
    """A 500 that needs no session, template or database: they may be what failed."""
    try:
        body = templates.get_template("console/error.html").render(
            error=error_text("error"), detail=None, principal=None, nav=[], csrf_token="")
    except Exception:  # the page itself failed: the text alone still says what to do
        log.exception("the console's error page could not be rendered")
        text = error_text("error")
        body = (f"<!doctype html><title>{html.escape(text['title'])}</title>"
                f"<p>{html.escape(text['text'])}</p>")
    return HTMLResponse(body, status_code=500)
