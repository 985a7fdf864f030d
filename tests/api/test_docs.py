"""/docs and /openapi.json (issue 14, item 7): open in development, closed in production
unless API_DOCS is set and then only with the admin key, and Swagger UI from our own origin."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.channel_fixtures import channel_settings
from tests.ledger.support import make_ledger
from tests.production_env import PRODUCTION_SECRETS

KEY = PRODUCTION_SECRETS["ADMIN_API_KEY"]
PATHS = ("/docs", "/openapi.json", "/redoc")


def _client(tmp_path: Path, **overrides: Any) -> TestClient:
    url = f"sqlite:///{tmp_path / 'docs.db'}"
    settings = channel_settings(url, twilio=None, telegram=None, WARM_NLU_AT_START=False,
                                **overrides)
    return TestClient(create_app(settings, ledger=make_ledger(url)))


def _basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"anyone:{password}".encode()).decode()}


def test_development_serves_swagger_ui_from_our_own_origin(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text.lower() and "https://" not in page.text
        assert '"/docs/assets/swagger-ui-bundle.js"' in page.text
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
            served = client.get(f"/docs/assets/{asset}")
            assert served.status_code == 200 and len(served.content) > 10_000
        assert client.get("/openapi.json").json()["info"]["title"] == "Frikort-assistenten"
        assert client.get("/redoc").status_code == 404  # no packaged ReDoc: not served


def test_production_has_no_docs_unless_asked_for(tmp_path: Path) -> None:
    with _client(tmp_path, **PRODUCTION_SECRETS) as client:
        for path in PATHS:
            assert client.get(path, headers={"Authorization": f"Bearer {KEY}"}
                              ).status_code == 404, path


def test_docs_turned_on_in_production_need_the_admin_key(tmp_path: Path) -> None:
    with _client(tmp_path, **PRODUCTION_SECRETS, API_DOCS=True) as client:
        for path in ("/docs", "/openapi.json"):
            refused = client.get(path)
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"].startswith("Basic")
            assert client.get(path, headers=_basic("wrong")).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer wrong"}
                              ).status_code == 401
            assert client.get(path, headers=_basic(KEY)).status_code == 200
            assert client.get(path, headers={"Authorization": f"Bearer {KEY}"}
                              ).status_code == 200
