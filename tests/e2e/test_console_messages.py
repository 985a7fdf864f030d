"""Beskeder in the browser: a caseworker in Aarhus writes to the municipality's card holders,
sees the preview (recipients, SMS, price), sends it, and after the outreach sweep the
message reaches Jens (Aarhus, active card) by SMS, and the list shows it delivered."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from outreach.sweep import run_sweep
from tests.api.channel_fixtures import JENS_PHONE
from tests.e2e.browser import Shot
from tests.e2e.live import LiveServer, LogIn

TEXT = "Kom til infomøde om frikort på biblioteket tirsdag kl. 14. Der er kaffe."
DAYTIME = dt.datetime.combine(dt.date.today(), dt.time(11, 0), tzinfo=ZoneInfo("Europe/Copenhagen"))
"""The sweep runs as of 11:00 Danish time today, whenever the test runs (quiet hours aside)."""


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
    sent = run_sweep(live_server.ledger.outreach, at=DAYTIME.astimezone(dt.UTC)).sent
    assert [o.recipient for o in sent if o.rule == "announcement"] == [JENS_PHONE]
    live_server.wait_for_sms(JENS_PHONE, "infomøde")
    live_server.wait_until_sent(JENS_PHONE)
    page.reload()
    row = page.get_by_test_id("announcements").get_by_role("row").filter(has_text="infomøde")
    expect(row).to_contain_text("Sendt")
    expect(row.locator("td.num").nth(1)).to_have_text("1")  # delivered
    shot("console-page-messages-list")
