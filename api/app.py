"""The FastAPI application: `create_app(settings)` is the composition root for HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import APIRouter, FastAPI

from api.bootstrap import Backend, LazyParser, Services, build_services
from api.console import install_console
from api.db_outage import install_outage_handling
from api.docs import install_docs
from api.edge import install_edge, install_proxy_headers
from api.logging_setup import configure_logging
from api.metrics import Metrics, install_metrics
from api.outreach_job import outreach_job
from api.problems import PROBLEM_RESPONSES, install_problem_handlers
from api.retention_job import retention_job
from api.routes import (
    caps,
    cards,
    demo,
    employers,
    employments,
    escalations,
    outbox,
    reporting,
    voice,
    wage_report_batch,
    wage_reports,
    webhooks,
)
from api.scheduler import BackgroundScheduler
from api.settings import Settings
from api.shared_routes import include_shared
from api.smalljob_jobs import smalljob_jobs
from nlu import Parser

log = logging.getLogger(__name__)

API_V1 = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
"""The REST API, assembled once per process (and included with `include_shared`): each test
builds an app of its own, and assembling it in `create_app` cost every app about 60 ms."""
for _module in (caps, employers, cards, employments, wage_report_batch, wage_reports,
                reporting, escalations, outbox):
    API_V1.include_router(_module.router)


def create_app(
    settings: Settings, *, ledger: Backend | None = None, parser: Parser | None = None
) -> FastAPI:
    """Builds the app. Tests pass their own settings, and may pass a ledger with a fake clock.

    Raises InsecureSettings in production when a secret is weak, missing or repeated.
    """
    settings.require_safe_secrets()
    services = build_services(settings, ledger=ledger, parser=parser)
    worker = BackgroundScheduler(services.ledger, services.senders, poll_s=settings.OUTBOX_POLL_SECONDS)
    metrics = Metrics(services.ledger, multiprocess_dir=settings.PROMETHEUS_MULTIPROC_DIR)
    metrics.watch(services.ledger, services.dialogue)
    worker.on_delivery = metrics.delivered
    if settings.RETENTION_IN_SERVER:
        worker.add_job(retention_job(services.ledger, settings, metrics))
    for job in smalljob_jobs(services.ledger):  # small jobs: hour prompts, digests, expiry
        worker.add_job(job)
    if settings.OUTREACH_IN_SERVER:  # reminders, status messages, announcements
        worker.add_job(outreach_job(services.ledger, every_s=settings.OUTREACH_EVERY_SECONDS))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        # No more turns in threads at once than the pool has connections: the rest wait on the
        # event loop for a thread, instead of in a thread for a connection, or in a new
        # connection beyond the pool (opened and closed again, PostgreSQL forking each time).
        to_thread.current_default_thread_limiter().total_tokens = settings.ledger.pool_size
        task = asyncio.create_task(worker.run(stop)) if settings.RUN_BACKGROUND_WORKER else None
        if settings.WARM_NLU_AT_START and isinstance(services.parser, LazyParser):
            threading.Thread(target=services.parser.warm, name="nlu-warm", daemon=True).start()
        try:
            yield
        finally:
            stop.set()
            await worker.wait_for_deliveries()  # the webhooks' own sends, under their leases
            if task is not None:
                worker.kick()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await worker.wait_for_jobs()
            await _close(app, services)

    app = FastAPI(
        title="Frikort-assistenten",
        version="0.1.0",
        description="Ledger and assistant for the socialt frikort. Amounts are kroner as "
        "decimal strings; errors are RFC 9457 problem+json with a stable `code`.",
        lifespan=lifespan,
        docs_url=None, redoc_url=None, openapi_url=None,  # api/docs.py serves them, or not
    )
    app.state.settings = settings
    app.state.services = services
    app.state.ledger = services.ledger
    app.state.scheduler = worker
    app.state.metrics = metrics
    app.state.kick_outbox = worker.kick
    app.state.kick_outbox_if_queued = worker.kick_if_queued
    app.state.telegram_failures = {}
    app.state.telegram_ready = False
    app.state.telegram_attempts = {}
    app.state.telegram_app = webhooks.telegram_application(
        services, worker, app.state.telegram_failures)
    install_problem_handlers(app)
    install_outage_handling(app, services.ledger)

    # The providers' webhooks first: routes are matched in order, and they carry the traffic.
    for router in (webhooks.router, voice.router, API_V1):
        include_shared(app, router)
    if settings.demo_enabled:
        include_shared(app, demo.router)
    install_console(app, settings)
    install_docs(app, settings)

    install_edge(app, settings)
    install_metrics(app, settings, metrics)
    install_proxy_headers(app, settings)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers (on the event loop, not behind the busy threads)."""
        return {"status": "ok"}

    return app


async def _close(app: FastAPI, services: Services) -> None:
    telegram_app = app.state.telegram_app
    if telegram_app is not None and telegram_app.running:
        await telegram_app.stop()
    if telegram_app is not None:
        with contextlib.suppress(Exception):
            await telegram_app.shutdown()
    if services.telegram is not None:
        await services.telegram.shutdown()
    if services.owns_ledger:
        services.ledger.close()


def create_app_from_env() -> FastAPI:
    """Entry point for uvicorn's factory mode: settings from the environment."""
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)
