"""Authentication on every endpoint, and the problem+json mapping of every ledger error."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import api.routes
import api_keys.errors  # noqa: F401  (every domain's errors in all_error_classes)
import casework.errors  # noqa: F401
import outreach.errors  # noqa: F401
import smalljobs.errors  # noqa: F401
from api.app import create_app
from api.problems import status_for
from api.settings import Settings
from db.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    all_error_classes,
    danish_message,
)
from staff.errors import LoginFailed, LoginLocked, NotAllowedForRole
from tests.api.conftest import ADMIN_KEY, PROBLEM_JSON, Api
from tests.conftest import TEST_CLIENT_HOST

# The endpoints issue 2 asks for; they must all exist. The auth tests run on every /api/
# endpoint the app serves (these and whatever later issues add).
ENDPOINTS = {
    ("GET", "/api/v1/caps"),
    ("PUT", "/api/v1/caps/{year}"),
    ("POST", "/api/v1/employers"),
    ("POST", "/api/v1/employers/{cvr}/verify"),
    ("POST", "/api/v1/cards"),
    ("GET", "/api/v1/cards/{number}"),
    ("POST", "/api/v1/cards/{number}/deactivate"),
    ("POST", "/api/v1/cards/{number}/reactivate"),
    ("POST", "/api/v1/cards/{number}/transfer"),
    ("GET", "/api/v1/cards/{number}/balance"),
    ("POST", "/api/v1/employments"),
    ("POST", "/api/v1/wage-reports"),
    ("GET", "/api/v1/wage-reports/{report_id}"),
    ("POST", "/api/v1/wage-reports/{report_id}/post"),
    ("POST", "/api/v1/wage-reports/{report_id}/void"),
    ("POST", "/api/v1/wage-reports/{report_id}/reverse"),
    ("GET", "/api/v1/exports/wage-reports"),
    ("GET", "/api/v1/stats/usage"),
}
PATH_VALUES = {"year": "2026", "cvr": "31425360", "number": "48213"}
QUERY = {"/api/v1/exports/wage-reports": {"municipality": "751", "year": "2025", "format": "csv"},
         "/api/v1/stats/usage": {"year": "2025"},
         "/api/v1/cards/{number}/balance": {"year": "2025"}}
# Valid bodies, so that a missing auth check would show up as a success, not as a 422.
BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/caps/{year}": {"amount": "43000.00", "source": "https://x.dk"},
    "/api/v1/employers": {"cvr": "31425360", "name": "Café"},
    "/api/v1/cards": {"cpr": "0101801234", "name": "A", "municipality_code": "751",
                      "valid_from": "2025-01-01"},
    "/api/v1/cards/{number}/deactivate": {"reason": "x"},
    "/api/v1/cards/{number}/reactivate": {"reason": "x"},
    "/api/v1/cards/{number}/transfer": {"municipality_code": "101"},
    "/api/v1/employments": {"employer_cvr": "31425360", "card_number": "48213",
                            "start_date": "2025-01-01", "weekly_hours": "4"},
    "/api/v1/wage-reports": {"employer_cvr": "31425360", "card_number": "48213",
                             "paid_on": "2025-06-01", "hours": "4", "amount": "100.00"},
    "/api/v1/wage-reports/{report_id}/reverse": {"reason": "x"},
}
BAD_AUTH = [
    pytest.param({}, id="no-header"),
    pytest.param({"Authorization": ""}, id="empty"),
    pytest.param({"Authorization": f"Basic {ADMIN_KEY}"}, id="basic-scheme"),
    pytest.param({"Authorization": f"Token {ADMIN_KEY}"}, id="token-scheme"),
    pytest.param({"Authorization": ADMIN_KEY}, id="no-scheme"),
    pytest.param({"Authorization": "Bearer"}, id="bearer-no-key"),
    pytest.param({"Authorization": "Bearer wrong-key"}, id="wrong-key"),
    pytest.param({"Authorization": f"Bearer {ADMIN_KEY}x"}, id="key-with-suffix"),
    pytest.param({"Authorization": f"Bearer {ADMIN_KEY[:-1]}"}, id="key-prefix"),
    pytest.param({"Authorization": "Bearer dev-admin-key"}, id="dev-key"),
]


def v1_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every /api/ operation the app serves, from its OpenAPI document."""
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items()
            if path.startswith("/api/") for method in item}


def hidden_routes(app: FastAPI) -> list[str]:
    """Routes of the /api/v1 routers left out of the OpenAPI document (so out of v1_routes).

    A router counts as /api/v1 when any of its visible routes is served there; routers
    mounted elsewhere (the demo chat pages, webhooks) may hide theirs.
    """
    served = {path for _, path in v1_routes(app)}
    hidden = []
    for info in pkgutil.iter_modules(api.routes.__path__):
        module = importlib.import_module(f"api.routes.{info.name}")
        routes = [r for r in getattr(getattr(module, "router", None), "routes", ())
                  if isinstance(r, APIRoute)]
        if not any(f"/api/v1{r.path}" in served for r in routes):
            continue
        hidden += [f"{info.name}: {r.path}" for r in routes if not r.include_in_schema]
    return hidden


def _fill(path: str) -> str:
    """Plausible path parameters: the named ones above, "1" for any id."""
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)


def test_the_issue_endpoints_exist_and_none_is_hidden(sqlite_api: Api) -> None:
    assert ENDPOINTS <= v1_routes(sqlite_api.client.app)  # type: ignore[arg-type]  # the client's app is the FastAPI app
    assert hidden_routes(sqlite_api.client.app) == []  # type: ignore[arg-type]  # the client's app is the FastAPI app


@pytest.mark.parametrize("headers", BAD_AUTH)
def test_every_endpoint_refuses_bad_credentials(sqlite_api: Api, headers: dict[str, str]) -> None:
    endpoints = sorted(v1_routes(sqlite_api.client.app))  # type: ignore[arg-type]  # the client's app is the FastAPI app
    assert len(endpoints) >= len(ENDPOINTS)
    for method, path in endpoints:
        response = sqlite_api.client.request(
            method, _fill(path), params=QUERY.get(path), json=BODIES.get(path),
            headers={**headers, "Idempotency-Key": "auth-test"})
        assert response.status_code == 401, (method, path, response.status_code, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        assert (body["status"], body["code"]) == (401, "unauthorized")
        assert body["detail"] == "Mangler eller forkert API-nøgle."
        assert body["type"].endswith("/unauthorized") and body["title"]
    # Nothing was written by any of those requests.
    assert sqlite_api.ok("GET", "/api/v1/stats/usage", params={"year": 2025})["cards_granted"] == 0
    assert 2026 not in {c["year"] for c in sqlite_api.ok("GET", "/api/v1/caps")}


def test_bearer_scheme_is_case_insensitive(sqlite_api: Api) -> None:
    for scheme in ("bearer", "BEARER"):
        response = sqlite_api.client.get("/api/v1/caps",
                                         headers={"Authorization": f"{scheme} {ADMIN_KEY}"})
        assert response.status_code == 200


def test_health_and_docs_need_no_key(sqlite_api: Api) -> None:
    assert sqlite_api.client.get("/healthz").json() == {"status": "ok"}
    assert sqlite_api.client.get("/docs").status_code == 200
    schema = sqlite_api.client.get("/openapi.json").json()
    documented = {(method.upper(), path) for path, item in schema["paths"].items()
                  if path.startswith("/api/") for method in item}
    assert ENDPOINTS <= documented
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_unknown_routes_and_methods_are_problems(sqlite_api: Api) -> None:
    missing = sqlite_api.problem("GET", "/api/v1/nothing-here", 404, "not_found")
    assert missing["detail"] == "Adressen findes ikke i API'et."
    wrong = sqlite_api.problem("DELETE", "/api/v1/caps", 405, "method_not_allowed")
    assert wrong["detail"] == "Metoden kan ikke bruges på denne adresse."


def test_command_level_limits_are_422_not_500(sqlite_api: Api) -> None:
    """Values the ledger's commands refuse come back as problems, never as server errors."""
    sqlite_api.problem("PUT", "/api/v1/caps/2026", 422, "invalid_input",
                       json={"amount": "0", "source": "https://x.dk"})
    sqlite_api.problem("PUT", "/api/v1/caps/2026", 422, "invalid_input",
                       json={"amount": "0.00", "source": "https://x.dk"})
    sqlite_api.problem("POST", "/api/v1/employments", 422, "invalid_input",
                       json={"employer_cvr": "31425360", "card_number": "48213",
                             "start_date": "2025-01-01", "weekly_hours": "200"})
    sqlite_api.problem("POST", "/api/v1/wage-reports", 422, "invalid_input",
                       headers={"Idempotency-Key": "k" * 201},
                       json=BODIES["/api/v1/wage-reports"])


# Every ledger error has a status and a Danish message ----------------------------------


SPECIAL_STATUS: dict[type[DomainError], int] = {
    NotAllowedForRole: 403, LoginFailed: 401, LoginLocked: 429}
"""Errors whose family status would mislead: a role that may never act is not a conflict."""


def test_every_domain_package_s_errors_are_in_the_tree() -> None:
    """The parametrisation below sees every error class only if every errors module is loaded."""
    codes = {cls.code for cls in all_error_classes()}
    assert {"card_not_found", "login_failed", "task_full", "api_key_not_found",
            "application_decided", "not_allowed_for_role"} <= codes


def _params_for(code: str) -> dict[str, str]:
    fields = {name for _, name, _, _ in string.Formatter().parse(danish_message(code)) if name}
    return {name: f"<{name}>" for name in fields}


@pytest.mark.parametrize("cls", all_error_classes(), ids=lambda c: c.code)
def test_every_ledger_error_maps_to_a_status_and_a_message(cls: type[DomainError]) -> None:
    error = cls(**_params_for(cls.code))
    status = status_for(error)
    expected = (SPECIAL_STATUS[cls] if cls in SPECIAL_STATUS
                else 422 if issubclass(cls, InvalidInput) else 404 if issubclass(cls, NotFound)
                else 409 if issubclass(cls, Conflict) else 400)
    assert status == expected
    assert error.message and "{" not in error.message
    assert error.message[0].isupper()
    template = danish_message(cls.code).rstrip()
    assert template[-1] in ".!?)}", template


def test_error_codes_are_unique_and_cover_the_tree() -> None:
    classes = all_error_classes()
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes))
    assert {"card_not_active", "employer_not_verified", "no_employment", "citizen_has_card",
            "report_not_pending", "idempotency_conflict", "card_not_found",
            "employer_not_found", "report_not_found", "amount_out_of_bounds"} <= set(codes)


def test_every_ledger_error_renders_as_problem_json() -> None:
    """Through the real handlers: a route that raises each error in turn."""
    settings = Settings(_env_file=None, DATABASE_URL="sqlite://", ADMIN_API_KEY=ADMIN_KEY,
                        ALLOWED_HOSTS=TEST_CLIENT_HOST)
    app = create_app(settings, ledger=_NoLedger())  # type: ignore[arg-type]  # a stand-in: no route here reads the ledger
    by_code = {cls.code: cls for cls in all_error_classes()}

    @app.get("/raise/{code}")
    def _raise(code: str) -> None:
        raise by_code[code](**_params_for(code))

    with TestClient(app) as client:
        for code, cls in by_code.items():
            response = client.get(f"/raise/{code}")
            assert response.status_code == status_for(cls(**_params_for(code)))
            assert response.headers["content-type"].startswith(PROBLEM_JSON)
            body = response.json()
            assert body == {"type": f"https://frikort-assistenten.dk/problems/{code}",
                            "title": code.replace("_", " "), "status": response.status_code,
                            "code": code, "detail": cls(**_params_for(code)).message}


class _NoLedger:
    conversations = None  # the dialogue holds it; no route here reaches it

    def close(self) -> None:
        pass
