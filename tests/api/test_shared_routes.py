"""Apps in one process share their built routes (api/shared_routes.py), and still each serve
their own ledger: a route node holds no app, the request does."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from tests import databases
from tests.api.conftest import _build


def test_two_apps_share_route_nodes_and_each_answers_from_its_own_ledger(
        tmp_path: Path) -> None:
    first = _build(databases.sqlite_copy(tmp_path / "first.db"))
    second = _build(databases.sqlite_copy(tmp_path / "second.db"))
    api_a, api_b = next(first), next(second)
    try:
        number = api_a.card()
        assert api_a.get(f"/api/v1/cards/{number}").status_code == 200
        api_b.problem("GET", f"/api/v1/cards/{number}", 404, "card_not_found")
        # Below 10000, so not `number` again: random numbers are 10000-99999.
        other = api_b.card(number="01234")
        api_a.problem("GET", f"/api/v1/cards/{other}", 404, "card_not_found")
        assert api_b.get(f"/api/v1/cards/{other}").status_code == 200
        app_a, app_b = api_a.client.app, api_b.client.app
        assert isinstance(app_a, FastAPI) and isinstance(app_b, FastAPI)
        assert app_a is not app_b
        shared = [route for route in app_a.router.routes
                  if any(route is theirs for theirs in app_b.router.routes)]
        assert len(shared) >= 4  # the REST API, the webhooks, voice and the console at least
        served = {str(context.path) for context in iter_route_contexts(app_a.routes)}
        assert {"/console", "/console/inbox", "/api/v1/cards/{number}"} <= served
    finally:
        for built in (first, second):
            for _ in built:  # closes the app and runs the fixture's own checks
                pass
