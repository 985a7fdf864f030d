"""A caseworker deactivates a card in the console; the employer's wage report for it over SMS
is then refused by the bot, and nothing is posted."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.api.channel_fixtures import CAFE_PHONE, JENS_CARD
from tests.e2e.browser import Shot
from tests.e2e.live import LiveServer, LogIn

CASEWORKER = "sagsbehandler.aarhus"
CASEWORKER_NAME = "Sara Sagsbehandler (Aarhus)"
REASON = "Kortholderen er flyttet til Norge (e2e-test)"


def test_a_deactivated_card_is_refused_when_the_employer_reports_wages_by_sms(
    page: Page, live_server: LiveServer, log_in: LogIn, shot: Shot,
) -> None:
    log_in(CASEWORKER, display_name=CASEWORKER_NAME)

    # Find Jens's card by its Frikort-ID: an exact hit opens the card.
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Kort").click()
    page.get_by_label("Frikort-ID, navn eller CPR-nummer").fill(JENS_CARD)
    page.get_by_role("button", name="Søg").click()
    expect(page).to_have_url(re.compile(rf"/console/cards/{JENS_CARD}$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"Frikort {JENS_CARD} · Jens Hansen")
    expect(heading).to_contain_text("Aktivt")
    reports = page.locator("table").filter(has=page.get_by_role("columnheader", name="Beløb"))
    expect(reports.locator("tbody tr")).to_have_count(3)  # the demo's three posted reports

    # Deactivate: a confirmation page, a reason, then the danger button.
    page.get_by_role("link", name="Deaktivér kortet …").click()
    expect(page.get_by_role("heading", name=f"Deaktivér frikort {JENS_CARD}?")).to_be_visible()
    page.get_by_label("Begrundelse (gemmes i kortets historik)").fill(REASON)
    page.get_by_role("button", name="Ja, deaktivér kortet").click()
    expect(page).to_have_url(re.compile(rf"/console/cards/{JENS_CARD}\?besked=deactivated"))
    expect(page.get_by_role("status")).to_contain_text("Kortet er deaktiveret fra i dag")
    expect(heading).to_contain_text("Deaktiveret")
    history = page.locator("table").filter(has=page.get_by_role("columnheader", name="Hændelse"))
    latest = history.locator("tbody tr").filter(has_text=REASON)
    expect(latest).to_have_count(1)
    expect(latest).to_contain_text("Deaktiveret")
    expect(latest).to_contain_text(CASEWORKER)
    expect(page.get_by_role("link", name="Deaktivér kortet …")).to_have_count(0)

    # Café Solsikken reports wages for the card by SMS: refused at once, in plain Danish.
    balance_before = live_server.ledger.balance(JENS_CARD)
    reports_before = live_server.wage_report_count()
    answer = "\n".join(live_server.send_sms(
        CAFE_PHONE, f"indberet 4 timer 600 kr frikort {JENS_CARD}"))
    assert f"Frikort {JENS_CARD} er ikke aktivt" in answer, answer
    assert "Svar JA" not in answer, f"the bot asked to confirm a report for a dead card: {answer}"

    # Nothing was reported, reserved or posted.
    assert live_server.wage_report_count() == reports_before
    balance_after = live_server.ledger.balance(JENS_CARD)
    assert (balance_after.posted_ore, balance_after.pending_ore) == (
        balance_before.posted_ore, balance_before.pending_ore), (balance_before, balance_after)

    # The card page says the same: still the three old reports, nothing new.
    page.reload()
    expect(heading).to_contain_text("Deaktiveret")
    expect(reports.locator("tbody tr")).to_have_count(3)
    expect(reports).not_to_contain_text("Venter på arbejdsgiverens bekræftelse")
    shot("console-card-deactivated")
