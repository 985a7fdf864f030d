"""A citizen applies for a card by SMS; the caseworker approves it in the console; the grant
SMS with the new Frikort-ID reaches the fake Twilio server, and the applicant's phone is
linked to the card."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.api.channel_fixtures import TWILIO_FROM
from tests.e2e.browser import Shot
from tests.e2e.live import LiveServer, LogIn, apply_by_sms

CASEWORKER = "sagsbehandler.aarhus"
CASEWORKER_NAME = "Sara Sagsbehandler (Aarhus)"
APPLICANT_PHONE = "+4522446688"
"""Not in the demo data: the bot meets an unknown sender."""
APPLICANT = "Sofie Holm"
APPLICANT_CPR = "220695-1238"
"""A valid birth date (python-stdnum), not one of the demo card holders' numbers."""
APPLICANT_CPR_DIGITS = APPLICANT_CPR.replace("-", "")


def test_a_caseworker_approves_an_sms_application_and_the_grant_sms_goes_out(
    page: Page, live_server: LiveServer, log_in: LogIn, dialogs: list[str], shot: Shot,
) -> None:
    done = apply_by_sms(live_server, APPLICANT_PHONE, name=APPLICANT, cpr=APPLICANT_CPR)
    assert "Aarhus Kommune" in done, done  # postcode 8000

    log_in(CASEWORKER, display_name=CASEWORKER_NAME)
    page.get_by_role("navigation", name="Hovedmenu").get_by_role(
        "link", name="Ansøgninger").click()
    expect(page.get_by_role("heading", name="Ansøgninger", level=1)).to_be_visible()
    row = page.get_by_role("row").filter(has_text=APPLICANT)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Venter på afgørelse")
    expect(row).to_contain_text("Oplyst")  # the CPR number was given
    shot("console-applications")

    # The application: the answers, the CPR number masked (never in full on the page).
    row.get_by_role("link", name=re.compile(r"^Åbn ansøgning \d+$")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        re.compile(rf"^Ansøgning nr\. \d+: {APPLICANT}"))
    answers = page.locator("section").filter(
        has=page.get_by_role("heading", name="Borgerens svar"))
    expect(answers).to_contain_text("220695-xxxx")
    expect(answers).to_contain_text("Aarhus (751)")
    expect(answers).to_contain_text("kontanthjælp")
    expect(answers).to_contain_text("Ja, borgeren har givet samtykke")
    expect(answers).to_contain_text("rengøring, lager")
    expect(answers).to_contain_text(APPLICANT_PHONE)
    for full in (APPLICANT_CPR, APPLICANT_CPR_DIGITS):
        expect(page.locator("body")).not_to_contain_text(full)

    # Approve (the form asks for a confirmation first).
    page.get_by_role("button", name="Godkend og udsted frikort").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        re.compile(rf"^Frikort \d{{5}} er udstedt til {APPLICANT}$"))
    assert dialogs == [f"Godkend ansøgningen og udsted et frikort til {APPLICANT}?"], dialogs
    number = page.locator("#card-number").inner_text()
    code = page.locator("#link-code").inner_text()
    assert re.fullmatch(r"\d{5}", number), number
    expect(page.get_by_role("status")).to_contain_text("er bevilget")
    expect(page.locator("#grant-message")).to_contain_text(f"Dit Frikort-ID er {number}")
    expect(page.locator("body")).not_to_contain_text(APPLICANT_CPR_DIGITS)
    shot("console-application-approved")

    # The grant SMS: from our number to the applicant, with the Frikort-ID and the link code
    # (the page shows the message with the code hidden; the SMS carries it).
    sms = live_server.wait_for_sms(APPLICANT_PHONE, f"Frikort-ID er {number}", timeout=15)
    assert sms["From"] == TWILIO_FROM, sms
    assert "Godt nyt, Sofie" in sms["Body"] and f"LINK {number} {code}" in sms["Body"], sms

    # The applicant's phone is linked to the new card: SALDO answers for it.
    balance = "\n".join(live_server.send_sms(APPLICANT_PHONE, "saldo"))
    assert f"Frikort {number}" in balance, balance

    # The queue: nothing waits any more; the application is approved, linked to the card.
    page.get_by_role("link", name="Næste ansøgning").click()
    expect(page.get_by_role("row").filter(has_text=APPLICANT)).to_have_count(0)
    page.get_by_role("link", name="Bevilget").click()
    decided = page.get_by_role("row").filter(has_text=APPLICANT)
    expect(decided).to_contain_text("Bevilget")
    decided.get_by_role("link", name=re.compile(r"^Åbn ansøgning")).click()
    expect(page.get_by_role("link", name=f"Frikort {number}")).to_be_visible()
    # Decided by Sara (the page names her by her actor id, console:<username>).
    expect(page.locator("dl.facts")).to_contain_text(re.compile(rf"af \S*{CASEWORKER}\b"))
