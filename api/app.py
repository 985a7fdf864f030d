"""The FastAPI application: `create_app(settings)` is the composition root for HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api.problems import install_problem_handlers
from api.routes import caps, cards, employers, employments, reporting, wage_reports
from api.settings import Settings
from ledger import Ledger


def create_app(settings: Settings, *, ledger: Ledger | None = None) -> FastAPI:
    """Builds the app. Tests pass their own settings (and may pass a ledger with a fake clock)."""
    owned = ledger is None
    the_ledger = ledger or Ledger(settings.ledger)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            the_ledger.close()

    app = FastAPI(
        title="Frikort-assistenten",
        version="0.1.0",
        description="Ledger and assistant for the socialt frikort. Amounts are kroner as "
        "decimal strings; errors are RFC 9457 problem+json with a stable `code`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.ledger = the_ledger
    install_problem_handlers(app)

    v1 = APIRouter(prefix="/api/v1")
    for module in (caps, employers, cards, employments, wage_reports, reporting):
        v1.include_router(module.router)
    app.include_router(v1)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    return app


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn's factory mode: settings from the environment."""
    return create_app(Settings())
