"""`frikort serve`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli.context import load_settings
from api.logging_setup import configure_logging
from api.settings import Settings

WORKER_HEALTHCHECK_S = 30
"""How long uvicorn's supervisor waits for a worker to answer its health check before it kills
and replaces it. Its default, 5 s, is shorter than a worker needs to import the app on a busy
machine (about 7 s measured with two cores under load): every new worker was killed before it
started, over and over, so `--workers 2` served with one worker or none (tests/faults)."""


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers")] = 1,
) -> None:
    """Starts the HTTP server (REST API, webhooks, demo chat, console)."""
    settings = load_settings()
    base = f"http://{host}:{port}"
    typer.echo(f"Frikort-assistenten on {base}")
    if settings.api_docs_enabled:
        typer.echo(f"  API docs     {base}/docs")
    typer.echo(f"  health       {base}/healthz")
    import uvicorn  # the server's own imports: only this command needs them

    configure_logging(settings)  # uvicorn's own lines go through the same redacting handler
    uvicorn.run("api.app:create_app_from_env", factory=True, host=host, port=port,
                workers=workers, **uvicorn_options(settings))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn runs our app, besides where it listens.

    log_config=None: uvicorn leaves logging to us; access_log=False: the app's middleware
    writes one access line per request, with its request id (api/metrics.py);
    proxy_headers=False: the app believes X-Forwarded-For only from FORWARDED_ALLOW_IPS
    (api/edge.py), where uvicorn by default believes it from any loopback client.
    """
    return {"log_level": settings.LOG_LEVEL.lower(), "log_config": None, "access_log": False,
            "timeout_worker_healthcheck": WORKER_HEALTHCHECK_S, "proxy_headers": False}
