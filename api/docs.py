"""/docs and /openapi.json: the REST API's documentation, served only when API_DOCS is on
(the default in development, not in production), and in production only with the admin key.

Swagger UI's script and stylesheet come from the swagger-ui-bundle package and are served
from our own origin: before, /docs loaded them from a third-party CDN without integrity
hashes, on the same origin as the console (issue 14). ReDoc has no packaged assets, so
/redoc is not served at all.

In a browser the admin key is given as the password of HTTP Basic authentication (any user
name), so Swagger UI's own fetch of /openapi.json carries it too; scripts may send
`Authorization: Bearer <ADMIN_API_KEY>`.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from swagger_ui_bundle import swagger_ui_path

from api.problems import problem
from api.settings import Settings
from db.errors import danish_message

ASSETS = "/docs/assets"
_REALM = {"WWW-Authenticate": 'Basic realm="Frikort API docs", charset="UTF-8"'}


def _given_key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value, validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _allowed(request: Request, settings: Settings) -> bool:
    if settings.ENVIRONMENT != "production":
        return True
    given = _given_key(request)
    expected = settings.ADMIN_API_KEY.get_secret_value()
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def _refused() -> Response:
    response = problem(401, "unauthorized", danish_message("unauthorized"))
    response.headers.update(_REALM)
    return response


def install_docs(app: FastAPI, settings: Settings) -> None:
    """Call on an app made with docs_url, redoc_url and openapi_url set to None."""
    if not settings.api_docs_enabled:
        return
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> Response:
        if not _allowed(request, settings):
            return _refused()
        schema: dict[str, Any] = app.openapi()
        return JSONResponse(schema)

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        if not _allowed(request, settings):
            return _refused()
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title} - API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png")
