"""Errors under /console are Danish HTML pages, not the REST API's problem+json.

`ConsoleError` is an HTTPException with a console code (see api/data/console.yml, `errors`).
`install_error_pages` wraps the app's existing handlers: for a path under /console it renders
a page; anywhere else it calls the REST handler it replaced, so the API is unchanged.
A ledger `NotFound` (a missing record, or one outside the user's municipality: the ledger
answers both the same way) becomes the same plain 404 page, so nothing reveals existence.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from api.console.rendering import render_error
from api.problems import status_for
from db.errors import DomainError, NotFound

PREFIX = "/console"
_CODES = {401: "login_required", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          422: "invalid_input"}
Handler = Callable[[Request, Exception], Awaitable[Response]]


class ConsoleError(StarletteHTTPException):
    """A refusal on a console page; `code` picks the Danish title and text."""

    def __init__(self, status_code: int, code: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=code, headers=dict(headers or {}))
        self.code = code


def not_found() -> NoReturn:
    """The console's one answer for a missing record and for one the user may not see."""
    raise ConsoleError(404, "not_found")


def is_console(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


async def _console_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleError)
    location = (exc.headers or {}).get("Location")
    if exc.status_code in {301, 302, 303, 307, 308} and location:
        return RedirectResponse(location, status_code=exc.status_code)
    return render_error(request, exc.status_code, exc.code, headers=exc.headers)


def _page_for(exc: Exception, request: Request) -> Response:
    if isinstance(exc, NotFound):
        return render_error(request, 404, "not_found")
    if isinstance(exc, DomainError):
        return render_error(request, status_for(exc), exc.code if exc.code in _CODES.values()
                            else "error", detail=exc.message)
    if isinstance(exc, RequestValidationError | ValidationError):
        return render_error(request, 422, "invalid_input")
    assert isinstance(exc, StarletteHTTPException)
    return render_error(request, exc.status_code, _CODES.get(exc.status_code, "error"),
                        headers=exc.headers)


def _wrap(previous: Callable[[Request, Any], Response | Awaitable[Response]] | None) -> Handler:
    """`previous` as Starlette keeps it: a handler answers a response or an awaitable one."""
    async def handle(request: Request, exc: Exception) -> Response:
        if is_console(request) or previous is None:
            return _page_for(exc, request)
        response = previous(request, exc)
        return response if isinstance(response, Response) else await response
    return handle


def install_error_pages(app: FastAPI) -> None:
    """Call after `install_problem_handlers`: the handlers it set are kept for other paths."""
    for exc_class in (DomainError, RequestValidationError, ValidationError,
                      StarletteHTTPException):
        previous = app.exception_handlers.get(exc_class)
        app.add_exception_handler(exc_class, _wrap(previous))
    app.add_exception_handler(ConsoleError, _console_error)
