"""The console's inbox in a real browser: a citizen asks for a person over the signed Twilio
webhook, the caseworker sees it arrive without reloading, takes it and replies, and the reply
reaches the fake Twilio server; a crisis message goes to the top of the inbox, marked urgent.

The pages poll (the inbox every 10 s, an open conversation every 5 s). Instead of sleeping,
the tests install Playwright's fake clock and jump it forward: the page's own timers fire and
its own fetches go to the live server, only sooner.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.api.channel_fixtures import JENS_PHONE, TWILIO_FROM
from tests.e2e.browser import Shot
from tests.e2e.live import LiveServer, LogIn, ask_for_a_person

CASEWORKER = "sagsbehandler.aarhus"
CASEWORKER_NAME = "Sara Sagsbehandler (Aarhus)"
ALI_PHONE = "+4551627384"
"""Ali Jensen (sampledata/data/demo.yml): Aarhus, like Jens, so Sara sees both."""
INBOX_POLL = "00:11"
"""A little more than the inbox's data-poll-seconds (10)."""
TRANSCRIPT_POLL = "00:06"
"""A little more than an open conversation's data-poll-seconds (5)."""
REPLY = "Hej Jens. Jeg hedder Sara og er sagsbehandler. Jeg ringer til dig i morgen kl. 10."


def inbox_rows(page: Page) -> Locator:
    return page.locator("#inbox-rows > tr")


def test_a_citizen_asks_for_a_person_and_the_caseworker_answers_from_the_inbox(
    page: Page, live_server: LiveServer, log_in: LogIn, shot: Shot,
) -> None:
    page.clock.install()  # before any page: the console's polling runs on the fake timers
    log_in(CASEWORKER, display_name=CASEWORKER_NAME)
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Indbakke").click()
    expect(page.get_by_role("heading", name="Indbakke", level=1)).to_be_visible()
    expect(inbox_rows(page)).to_have_text(["Ingen venter på et menneske lige nu."])
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    # Jens asks for a person by SMS, through the signed webhook.
    ask_for_a_person(live_server, JENS_PHONE)

    # The inbox's polling brings the conversation in; the page was not reloaded.
    page.clock.fast_forward(INBOX_POLL)
    row = inbox_rows(page).filter(has_text="Jens Hansen")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Frikort 48213")
    expect(row).to_contain_text("SMS")
    expect(row).to_contain_text("»kan jeg tale med en person«")  # his latest message
    expect(row).to_contain_text("Bad om at tale med et menneske")
    expect(row).to_contain_text("Ingen endnu")  # no owner
    expect(row).to_contain_text("venter under 1 min.")  # the waiting time
    expect(page.locator("[data-inbox-count]")).to_have_text("1")
    assert page.evaluate("window.__sameDocument === true"), "the inbox reloaded itself"
    shot("console-inbox")

    # Open it: the transcript of the SMS conversation, the bot's answers included.
    row.get_by_role("link", name=re.compile(r"^Åbn samtale \d+$")).click()
    expect(page.get_by_role("heading", name="Samtale med Jens Hansen", level=1)).to_be_visible()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("kan jeg tale med en person")
    expect(transcript).to_contain_text("24 timer")  # the bot's promise
    expect(page.locator("[data-escalation-status]")).to_have_text("Venter")

    # Take it: Sara owns it and the bot goes quiet.
    page.get_by_role("button", name="Tag samtalen").click()
    expect(page.get_by_role("status")).to_contain_text("Du har taget samtalen")
    expect(page.locator("[data-escalation-status]")).to_have_text("Taget")
    expect(page.get_by_role("button", name="Tag samtalen")).to_have_count(0)

    # Reply. The fake Twilio holds its answer for 3 s, so the page first shows "venter".
    live_server.twilio.fail("timeout", times=1)
    page.get_by_label(re.compile(r"^Dit svar sendes som SMS til")).fill(REPLY)
    page.get_by_role("button", name="Send svar").click()
    expect(page.get_by_role("status")).to_contain_text("Svaret er sat i kø")
    mine = transcript.locator(".bubble-out").filter(has_text=REPLY)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(f"{CASEWORKER_NAME} (medarbejder)")
    badge = mine.locator("[data-delivery-for]")
    expect(badge).to_have_text("venter")
    page.evaluate("window.__sameDocument = true")

    # The outbox worker delivers it to the fake Twilio, as an SMS from our number to Jens.
    sms = live_server.wait_for_sms(JENS_PHONE, "Jeg hedder Sara", timeout=15)
    assert (sms["From"], sms["Body"]) == (TWILIO_FROM, REPLY), sms

    # Twilio answered and the worker recorded it; the conversation's polling turns the badge
    # to "sendt", without a reload.
    live_server.wait_until_sent(JENS_PHONE, timeout=15)
    page.clock.fast_forward(TRANSCRIPT_POLL)
    expect(badge).to_have_text("sendt")
    expect(badge).to_have_class(re.compile(r"\bbadge-ok\b"))
    assert page.evaluate("window.__sameDocument === true"), "the conversation page reloaded"
    shot("console-conversation")

    # Only the one SMS went out: the bot's own answers went back in the webhook's TwiML.
    assert [m["To"] for m in live_server.twilio.messages()] == [JENS_PHONE]


def test_a_crisis_message_goes_to_the_top_of_the_inbox_marked_urgent(
    page: Page, live_server: LiveServer, log_in: LogIn, shot: Shot,
) -> None:
    # First an ordinary request (it has waited longer), then a crisis message.
    ask_for_a_person(live_server, JENS_PHONE)
    crisis_answer = "\n".join(live_server.send_sms(ALI_PHONE, "jeg vil slå mig selv ihjel"))
    assert "Livslinien" in crisis_answer and "112" in crisis_answer, crisis_answer

    log_in(CASEWORKER, display_name=CASEWORKER_NAME)
    page.goto("/console/inbox")
    rows = inbox_rows(page)
    expect(rows).to_have_count(2)
    first, second = rows.nth(0), rows.nth(1)
    expect(first).to_contain_text("Ali Jensen")
    expect(first).to_have_class(re.compile(r"\burgent\b"))
    expect(first.locator(".badge-danger")).to_have_text("Akut")
    expect(first).to_contain_text("Krise: selvmordstanker")
    expect(second).to_contain_text("Jens Hansen")
    expect(second).not_to_contain_text("Akut")
    shot("console-inbox-crisis")

    first.get_by_role("link", name=re.compile(r"^Åbn samtale \d+$")).click()
    expect(page).to_have_title(re.compile(r"^Samtale \d+ \(akut\)"))
    expect(page.get_by_role("alert")).to_contain_text("Akut: Krise: selvmordstanker.")
    expect(page.locator("#transcript")).to_contain_text("jeg vil slå mig selv ihjel")
    shot("console-conversation-crisis")
