"""Browser end-to-end fixtures: the real app on loopback, headless Chromium, screenshots.

    def test_something(page: Page, live_server: LiveServer, shot: Shot) -> None:
        page.goto("/demo")                      # relative to the live server
        live_server.send_sms(JENS_PHONE, "hej")  # a signed Twilio webhook
        live_server.wait_for_sms(JENS_PHONE, "Hej Jens")
        shot("demo-chat")                       # test-artifacts/screenshots/demo-chat.png

Every test in this folder is marked ``e2e``. One Chromium serves the whole folder; each test
gets a fresh browser context (no shared cookies) and a fresh app on a fresh SQLite database.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from nlu import Parser
from tests.api.channel_fixtures import (  # noqa: F401 (fixtures)
    channel_parser,
    fake_twilio,
    nlu_cache_dir,
    twilio_server,
)
from tests.conftest import IN_CI
from tests.e2e.browser import Screenshots, Shot, chromium_missing, chromium_path, safe_name
from tests.e2e.live import DEMO_PASSWORD, LiveServer, LogIn, live_app
from tests.fakes.http_server import RunningServer
from tests.fakes.twilio_api import FakeTwilio

HERE = Path(__file__).resolve().parent
TEST_TIMEOUT_S = 120
"""Per test (pytest-timeout); a hung browser should not hold the run for the default 600 s."""
ACTION_TIMEOUT_MS = 10_000
"""Playwright's wait for an element or a navigation; the pages answer in well under a second."""

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test under tests/e2e, so `-m "not e2e"` leaves the browser out."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the item, so the page fixture knows the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="package")
def screenshots() -> Screenshots:
    shots = Screenshots()
    shots.clear()
    return shots


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the folder. Package scope, not session: while Playwright's
    sync API is open the main thread has an event loop marked running, which would break
    later tests that call asyncio.run()."""
    missing = chromium_missing()
    if missing is not None:
        if IN_CI:
            pytest.fail(f"CI is set but {missing}")
        pytest.skip(f"{missing} (this is a failure when CI is set)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(tmp_path: Path, channel_parser: Parser, fake_twilio: FakeTwilio,  # noqa: F811
                twilio_server: tuple[FakeTwilio, RunningServer],  # noqa: F811
                ) -> Iterator[LiveServer]:
    """The real app, demo data loaded, on a fresh SQLite file; the fake Twilio log is empty."""
    with live_app(f"sqlite:///{tmp_path / 'live.db'}", channel_parser, twilio_server) as live:
        yield live


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, screenshots: Screenshots,
         request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh context (cookies, storage) per test; relative URLs go to the live server.
    When the test fails, the page as it was is saved as FAILED-<test>.png."""
    context = browser.new_context(base_url=live_server.url, locale="da-DK",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    new_page = context.new_page()
    try:
        yield new_page
        call = request.node.stash.get(_REPORTS, {}).get("call")
        if call is not None and call.failed:
            screenshots.take(new_page, f"FAILED-{safe_name(request.node.nodeid)}")
    finally:
        context.close()


@pytest.fixture
def shot(page: Page, screenshots: Screenshots) -> Shot:
    """``shot("console-inbox")`` saves the page as test-artifacts/screenshots/console-inbox.png."""
    return lambda name: screenshots.take(page, name)


# --- the caseworker console ------------------------------------------------------------------


@pytest.fixture
def log_in(page: Page) -> LogIn:
    """Logs `page` in through the console's own login form, as a person would, and waits
    until the console shows the user's name (the login answered and the session works)."""

    def run(username: str, *, password: str = DEMO_PASSWORD, display_name: str = "") -> None:
        page.goto("/console/login")
        page.get_by_label("Brugernavn").fill(username)
        page.get_by_label("Adgangskode").fill(password)
        page.get_by_role("button", name="Log ind").click()
        expect(page.get_by_role("button", name="Log ud")).to_be_visible()
        if display_name:
            expect(page.locator(".who-name")).to_have_text(display_name)

    return run


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """Accepts every confirm() the page asks (forms with data-confirm), and records the
    questions, so a test can check what was asked. Without this Playwright dismisses them."""
    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return asked
