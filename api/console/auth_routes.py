"""Login, logout and the console's front page.

    GET  /console/login?next=/console/...   the form (a signed-in user is sent on)
    POST /console/login                     username, password, next, csrf_token
    POST /console/logout                    csrf_token; ends every session of the account
    GET  /console                           who you are, your municipality, where to go
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.bootstrap import Backend
from api.console import session
from api.console.deps import LOGIN_PATH, CsrfChecked, CurrentStaff, staff_from_session
from api.console.rendering import render
from staff.errors import LoginLocked, LoginRefused

router = APIRouter(prefix="/console", include_in_schema=False)
HOME = "/console"


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path inside the console on this site, else None (no open redirect)."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    if any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    path = unquote(parts.path)
    if parts.scheme or parts.netloc or "\\" in path or "//" in path:
        return None
    if not (path == HOME or path.startswith(HOME + "/")) or path == LOGIN_PATH:
        return None
    if any(segment in {".", ".."} for segment in path.split("/")):
        return None
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> Response:
    if staff_from_session(request) is not None:
        return RedirectResponse(safe_next(next) or HOME, status_code=303)
    return render(request, "console/login.html", None, next=safe_next(next) or "")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    _: CsrfChecked,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ledger: Backend = request.app.state.ledger
    address = request.client.host if request.client else "unknown"
    try:
        principal = ledger.staff.authenticate(username, password, address)
    except LoginRefused as refused:
        return render(request, "console/login.html", None,
                      status_code=429 if isinstance(refused, LoginLocked) else 401,
                      error=refused.message, username=username, next=safe_next(next) or "")
    session.start(request, principal)
    return RedirectResponse(safe_next(next) or HOME, status_code=303)


@router.post("/logout")
def logout(request: Request, _: CsrfChecked) -> RedirectResponse:
    principal = staff_from_session(request)
    if principal is not None:
        ledger: Backend = request.app.state.ledger
        ledger.staff.end_sessions(principal.id)
    session.forget(request)
    return RedirectResponse(LOGIN_PATH, status_code=303)


@router.get("", response_class=HTMLResponse)
def home(request: Request, principal: CurrentStaff) -> Response:
    return render(request, "console/home.html", principal)
