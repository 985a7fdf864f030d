"""Rendering console pages: one Jinja environment (autoescape on), the Danish filters, the
menu for the signed-in role, and the CSRF token every form needs.

    render(request, "console/inbox.html", principal, items=items)  -> HTMLResponse

Templates live in api/templates/console/ and extend `console/base.html`. Pages may not use
inline <script> or style="..." (the Content-Security-Policy refuses them): put behaviour in
api/static/console/console.js and looks in console.css.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.console.filters import FILTERS
from api.console.session import csrf_token
from api.console.texts import error_text, texts
from staff import StaffPrincipal

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True)
_env.filters.update(FILTERS)
templates = Jinja2Templates(env=_env)


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    description: str
    active: bool


def nav_for(principal: StaffPrincipal | None, current_path: str) -> list[NavItem]:
    """The menu items this role may use, the current one marked."""
    if principal is None:
        return []
    return [NavItem(item["label"], item["path"], item["description"],
                    current_path == item["path"] or current_path.startswith(item["path"] + "/"))
            for item in texts()["nav"] if principal.role in item["roles"]]


def render(
    request: Request, template_name: str, principal: StaffPrincipal | None, *,
    status_code: int = 200, headers: Mapping[str, str] | None = None, **context: Any,
) -> HTMLResponse:
    """A console page with `principal`, `nav`, `csrf_token` and `request` in its context."""
    full = {"principal": principal, "nav": nav_for(principal, request.url.path),
            "csrf_token": csrf_token(request), **context}
    return templates.TemplateResponse(request, template_name, full, status_code=status_code,
                                      headers=headers)


def render_error(
    request: Request, status_code: int, code: str, *, detail: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """An error page in Danish; `detail` (a ledger error's message) is shown when given."""
    return render(request, "console/error.html", None, status_code=status_code,
                  headers=headers, error=error_text(code), detail=detail)
