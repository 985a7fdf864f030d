"""`frikort serve`."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers")] = 1,
) -> None:
    """Starts the HTTP server (REST API, webhooks, demo chat, console)."""
    base = f"http://{host}:{port}"
    typer.echo(f"Frikort-assistenten on {base}")
    typer.echo(f"  API docs     {base}/docs")
    typer.echo(f"  health       {base}/healthz")
    uvicorn.run("api.app:create_app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="info")
