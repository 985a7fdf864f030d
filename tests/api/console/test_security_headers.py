"""A console request that fails unexpectedly (a 500) still gets the console's security headers
and a Danish page; paths outside /console keep the framework's plain 500.

(The other kinds of console response are checked in test_auth.py,
`test_security_headers_on_every_kind_of_console_response`.)
"""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.console.headers import SECURITY_HEADERS
from api.console.texts import error_text
from tests.api.console.conftest import ConsoleEnv, login
from tests.ledger.support import raw_engine


def _failing_routes(env: ConsoleEnv) -> None:
    """Routes that raise what no handler takes, as a bug in a page would."""
    def fails() -> None:
        raise RuntimeError("a bug in a page")

    env.app.add_api_route("/console/test-fails", fails, methods=["GET"])
    env.app.add_api_route("/test-fails", fails, methods=["GET"])


def _assert_console_500(response: httpx.Response) -> None:
    assert response.status_code == 500
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert response.headers["content-type"].startswith("text/html")
    assert error_text("error")["title"] in response.text
    assert "a bug in a page" not in response.text


def test_an_unhandled_error_under_console_gets_the_headers_and_a_danish_page(
    sqlite_console_env: ConsoleEnv,
) -> None:
    _failing_routes(sqlite_console_env)
    client = TestClient(sqlite_console_env.app, raise_server_exceptions=False)
    _assert_console_500(client.get("/console/test-fails"))
    elsewhere = client.get("/test-fails")
    assert elsewhere.status_code == 500
    assert "Content-Security-Policy" not in elsewhere.headers
    # The exception still reaches the server, which logs it.
    raising = TestClient(sqlite_console_env.app)
    try:
        raising.get("/console/test-fails")
    except RuntimeError as error:
        assert str(error) == "a bug in a page"
    else:
        raise AssertionError("the error was swallowed")


def test_a_page_whose_query_fails_gets_the_headers(sqlite_console_env: ConsoleEnv) -> None:
    client = TestClient(sqlite_console_env.app, raise_server_exceptions=False,
                        follow_redirects=False)
    login(client, "caseworker_a")
    assert client.get("/console/tasks").status_code == 200
    engine = raw_engine(sqlite_console_env.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE tasks"))
    finally:
        engine.dispose()
    _assert_console_500(client.get("/console/tasks"))
