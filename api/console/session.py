"""The console's session cookie: signed (itsdangerous), holding a user id, the account's
session version and a CSRF token - nothing else, and never anything personal.

The cookie (`frikort_console`) is scoped to /console, HttpOnly, SameSite=strict, Secure when
CONSOLE_COOKIE_SECURE is on, and expires after eight hours. Logging out moves the account's
session version on in the database, so a copy of the old cookie is refused afterwards.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from api.settings import Settings
from staff import StaffPrincipal

COOKIE_NAME = "frikort_console"
MAX_AGE_SECONDS = 8 * 3600
USER_KEY, VERSION_KEY, CSRF_KEY = "uid", "ver", "csrf"


def install_sessions(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.SESSION_SECRET.get_secret_value(),
        session_cookie=COOKIE_NAME,
        max_age=MAX_AGE_SECONDS,
        path="/console",
        same_site="strict",
        https_only=settings.console_cookie_secure,
    )


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (an anonymous login form needs one too)."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def session_user(request: Request) -> tuple[int, int] | None:
    """(user id, session version) from the cookie, or None for an anonymous session."""
    user_id, version = request.session.get(USER_KEY), request.session.get(VERSION_KEY)
    if isinstance(user_id, int) and isinstance(version, int):
        return user_id, version
    return None


def start(request: Request, principal: StaffPrincipal) -> None:
    """A fresh session after login: a new CSRF token, nothing carried over."""
    request.session.clear()
    request.session.update({USER_KEY: principal.id, VERSION_KEY: principal.session_version,
                            CSRF_KEY: secrets.token_urlsafe(32)})


def forget(request: Request) -> None:
    request.session.clear()
