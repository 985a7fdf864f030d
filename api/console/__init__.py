"""The caseworker console: server-rendered pages under /console (FastAPI + Jinja2).

`install_console(app, settings)` is called by `api.app.create_app`: it adds the session
cookie, the security headers, the Danish error pages, the static files at /console/static
and `console_router`. Page modules live in api/console/pages/ and are listed in
`PAGE_ROUTERS` below; see api/console/deps.py for the dependencies every route uses.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from api.console import auth_routes
from api.console.errors import install_error_pages
from api.console.headers import ConsoleSecurityHeaders
from api.console.pages import (
    api_keys,
    applications,
    caps,
    card_actions,
    cards,
    employers,
    inbox,
    messages,
    overview,
    phone_list,
    tasks,
    users,
)
from api.console.session import install_sessions
from api.settings import Settings
from api.shared_routes import include_shared

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "console"

# Page routers, one per module under api/console/pages/: append yours here.
PAGE_ROUTERS: list[APIRouter] = [
    overview.router, caps.router, users.router, api_keys.router,
    cards.router, card_actions.router, employers.router,
    inbox.router, applications.router,
    tasks.router, phone_list.router, messages.router,
]

console_router = APIRouter()
console_router.include_router(auth_routes.router)
for _page_router in PAGE_ROUTERS:
    console_router.include_router(_page_router)


def install_console(app: FastAPI, settings: Settings) -> None:
    """Call after the problem handlers are installed (the console keeps them for the API)."""
    install_sessions(app, settings)
    app.add_middleware(ConsoleSecurityHeaders)
    install_error_pages(app)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    include_shared(app, console_router)
