"""A database outage answers 503 with Retry-After, never 500 or a false 200.

While PostgreSQL is down (a restart, a failover, a crash) every request that needs it fails
with a connection error. Answered 503 problem+json with `Retry-After`, Twilio and Telegram
deliver the message again later, and a REST client knows to retry; nothing was committed, so
a retry is safe (the webhooks de-duplicate by the provider's message id). The engine's pool
pings each connection on checkout, so the first request after the database is back gets a
fresh connection without a restart (db/engine.py).

Database errors that are not an outage (a bug) keep going to the server's 500 as before.
`GET /readyz` says whether the database answers, for a load balancer or an orchestrator.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.bootstrap import Backend
from api.problems import problem
from db.engine import DATABASE_ERROR_TYPES, is_database_unavailable
from db.errors import danish_message

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5
"""Seconds a client is asked to wait: a restart of PostgreSQL takes about that long."""
OUTAGE_CODE = "temporarily_unavailable"


def outage_problem() -> JSONResponse:
    """The 503 every outage answers (REST, webhooks, readiness alike)."""
    response = problem(503, OUTAGE_CODE, danish_message(OUTAGE_CODE))
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def describe(error: BaseException) -> str:
    """The error's kind, SQLSTATE and the first line of the driver's message, for a log line.

    Only the driver's own first line ("connection failed: ... Connection refused"): SQLAlchemy's
    text of the same error adds the statement and its parameters, which may be personal data.
    """
    orig = getattr(error, "orig", None) or error
    sqlstate = getattr(orig, "sqlstate", None)
    first_line = (str(orig).strip().splitlines() or [""])[0][:160]
    return (f"{type(error).__name__}/{type(orig).__name__}"
            + (f" [{sqlstate}]" if sqlstate else "") + (f": {first_line}" if first_line else ""))


def install_outage_handling(app: FastAPI, ledger: Backend) -> None:
    """The 503 handler for database outages and the `GET /readyz` probe."""

    async def database_error(request: Request, error: Exception) -> Response:
        if not is_database_unavailable(error):
            raise error  # a bug, not an outage: the server's 500 and its traceback, as before
        log.warning("database unavailable: %s %s answered 503 (%s)", request.method,
                    request.url.path, describe(error))
        return outage_problem()

    for error_type in DATABASE_ERROR_TYPES:
        app.add_exception_handler(error_type, database_error)

    @app.get("/readyz", tags=["ops"], responses={503: {"description": "The database does not "
                                                       "answer; try again after Retry-After"}})
    async def readyz() -> Response:
        """Readiness: 200 when the database answers a query, 503 while it does not."""
        try:
            await run_in_threadpool(ledger.ping)
        except Exception as error:
            log.warning("readiness: the database does not answer (%s)", describe(error))
            return outage_problem()
        return JSONResponse({"status": "ok"})
