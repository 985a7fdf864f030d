"""Beskeder in the browser: a caseworker in Aarhus writes to the municipality's card holders,
sees the preview (recipients, SMS, price), sends it, and after the outreach sweep the
message reaches Jens (Aarhus, active card) by SMS, and the list shows it delivered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from nlu import Parser
from outreach.sweep import run_sweep
from tests.api.channel_fixtures import JENS_PHONE
from tests.e2e.browser import Shot
from tests.e2e.live import LiveServer, LogIn, live_app
from tests.fakes.http_server import RunningServer
from tests.fakes.twilio_api import FakeTwilio

TEXT = "Kom til infomøde om frikort på biblioteket tirsdag kl. 14. Der er kaffe."
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
ELEVEN = dt.time(11, 0)


def daytime(now: dt.datetime) -> dt.datetime:
    """The latest 11:00 Danish time at or before `now` (UTC): outside quiet hours, and not in
    the future. The sweep dates the outbox message it queues by its own time, and the live
    server's worker (real clock) sends only what is due: a sweep as of 11:00 today, run
    before 11:00 Danish time, left the SMS waiting for hours and failed the test."""
    local = now.astimezone(COPENHAGEN)
    day = local.date() if local.time() >= ELEVEN else local.date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, ELEVEN, tzinfo=COPENHAGEN).astimezone(dt.UTC)


@pytest.fixture
def live_server(tmp_path: Path, channel_parser: Parser, fake_twilio: FakeTwilio,
                twilio_server: tuple[FakeTwilio, RunningServer]) -> Iterator[LiveServer]:
    """The folder's live server, without the outreach sweep of its background loop (its first
    run, 30 s after the start, would race the test's own sweep on a slow machine)."""
    with live_app(f"sqlite:///{tmp_path / 'live.db'}", channel_parser, twilio_server,
                  OUTREACH_IN_SERVER=False) as live:
        yield live


def test_a_caseworker_sends_an_announcement(
    page: Page, live_server: LiveServer, log_in: LogIn, shot: Shot,
) -> None:
    log_in("sagsbehandler.aarhus")
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Beskeder").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beskeder til kortholdere")
    page.get_by_label("Til", exact=True).select_option("active")
    page.get_by_label("Besked", exact=True).fill(TEXT)
    page.get_by_role("button", name="Se beskeden før du sender").click()
    expect(page.get_by_test_id("preview-recipients")).to_have_text("1")  # Jens; Ali's card is deactivated
    expect(page.get_by_test_id("preview-segments")).to_have_text("1")
    expect(page.get_by_test_id("preview-cost")).to_have_text("0,45 kr.")
    shot("console-page-messages-preview")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Send beskeden").click()
    expect(page.get_by_role("status")).to_contain_text("sendt til udsendelse")
    at = daytime(dt.datetime.now(dt.UTC))
    sent = run_sweep(live_server.ledger.outreach, at=at).sent
    assert [o.recipient for o in sent if o.rule == "announcement"] == [JENS_PHONE]
    live_server.wait_for_sms(JENS_PHONE, "infomøde")
    live_server.wait_until_sent(JENS_PHONE)
    page.reload()
    row = page.get_by_test_id("announcements").get_by_role("row").filter(has_text="infomøde")
    expect(row).to_contain_text("Sendt")
    expect(row.locator("td.num").nth(1)).to_have_text("1")  # delivered
    shot("console-page-messages-list")
