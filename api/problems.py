"""Errors as RFC 9457 problem+json, carrying the ledger's stable code and its Danish message."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from db.errors import Conflict, DomainError, InvalidInput, NotFound, danish_message
from staff.errors import LoginFailed, LoginLocked, NotAllowedForRole

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://frikort-assistenten.dk/problems/"

STATUS_BY_FAMILY: tuple[tuple[type[DomainError], int], ...] = (
    (NotAllowedForRole, 403),  # the role may never do this: not a conflict with any state
    (LoginFailed, 401),
    (LoginLocked, 429),  # too many failed logins: wait, then try again
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (DomainError, 400),
)


class Problem(BaseModel):
    """How every error of the REST API is answered (RFC 9457 problem details)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    """Stable and machine-readable, e.g. `cap_exceeded`; `detail` is the Danish message."""
    detail: str
    errors: list[dict[str, Any]] | None = None
    """Validation errors (422 `invalid_input`): where (`loc`) and what (`msg`)."""


_PROBLEM_STATUSES = {
    400: "Refused by the ledger's rules",
    401: "Missing or wrong API key",
    403: "The key's scope or the user's role does not allow this",
    404: "Not found",
    409: "Conflict with the current state, or an idempotency key reused with another payload",
    422: "Invalid input",
    503: "The database is unavailable for a moment (`temporarily_unavailable`); try again "
         "after the `Retry-After` seconds",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description,
             "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for status, description in _PROBLEM_STATUSES.items()
}
"""The error answers every /api/v1 operation documents in the OpenAPI schema."""


def status_for(error: DomainError) -> int:
    """One table decides the HTTP status of every ledger error (first matching family wins)."""
    return next(status for family, status in STATUS_BY_FAMILY if isinstance(error, family))


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + code, "title": code.replace("_", " "), "status": status,
            "code": code, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class AuthError(Exception):
    """Missing or wrong API key."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large",
               503: "service_unavailable"}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _ledger_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem(status_for(exc), exc.code, exc.message)

    @app.exception_handler(AuthError)
    async def _auth_error(_: Request, exc: AuthError) -> JSONResponse:
        status = 401 if exc.code == "unauthorized" else 403
        return problem(status, exc.code, danish_message(exc.code))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem(422, "invalid_input", danish_message("invalid_input"), errors=errors)

    @app.exception_handler(ValidationError)
    async def _command_validation(_: Request, exc: ValidationError) -> JSONResponse:
        # A ledger command refused a value the HTTP schema let through: the caller's input,
        # so 422 like any other validation error rather than a 500.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem(422, "invalid_input", danish_message("invalid_input"), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        response = problem(exc.status_code, code,
                           _http_details_da().get(code, str(exc.detail)))
        response.headers.update(exc.headers or {})  # e.g. `Allow` on a 405 (RFC 9110)
        return response


def http_problem(status: int, code: str) -> JSONResponse:
    """A problem for an error the HTTP layer itself raises, with its Danish detail."""
    return problem(status, code, _http_details_da().get(code, code.replace("_", " ")))


@cache
def _http_details_da() -> dict[str, str]:
    """Framework errors (unknown route, wrong method) in Danish like every other problem."""
    text = resources.files("api").joinpath("data/http_problems.da.yml").read_text("utf-8")
    return dict(yaml.safe_load(text))
