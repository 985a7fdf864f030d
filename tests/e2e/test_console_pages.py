"""The console's main pages as the administrator sees them, each saved as a screenshot
(test-artifacts/screenshots/console-page-*.png), reached through the menu as a person would.

Some activity comes first over SMS, so the pages have something to show: Mette waits for a
person, Ole has applied for a card, and the bot has met a message it did not understand.
"""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Page, expect

from db.unit_of_work import danish_day
from tests.api.channel_fixtures import CAFE_CVR, JENS_CARD, METTE_PHONE
from tests.e2e.browser import Shot
from tests.e2e.live import LiveServer, LogIn, apply_by_sms, ask_for_a_person

ADMIN_NAME = "Astrid Administrator"
UNDERSTOOD_BY_NOBODY = "den der med det"  # tests/bot/test_recorded_intents.py pins it as a fallback
"""The NLU's fallback (out-of-scope nonsense such as "xyzzy" is an intent of its own)."""


def test_the_administrator_sees_every_main_page(
    page: Page, live_server: LiveServer, log_in: LogIn, shot: Shot,
) -> None:
    ask_for_a_person(live_server, METTE_PHONE)
    apply_by_sms(live_server, "+4522113344", name="Ole Sørensen", cpr="0903921236")
    live_server.send_sms("+4522113344", UNDERSTOOD_BY_NOBODY)

    log_in("admin", display_name=ADMIN_NAME)
    expect(page.get_by_role("heading", name=f"Goddag, {ADMIN_NAME}")).to_be_visible()
    shot("console-page-home")
    menu = page.get_by_role("navigation", name="Hovedmenu")
    expect(menu.get_by_role("link")).to_have_text(
        ["Indbakke", "Ansøgninger", "Kort", "Arbejdsgivere", "Beskeder", "Opgaver", "Telefonliste",
         "Overblik", "Loftbeløb", "Brugere", "API-nøgler"])

    def visit(item: str, heading: str | re.Pattern[str]) -> None:
        menu.get_by_role("link", name=item, exact=True).click()
        expect(menu.get_by_role("link", name=item, exact=True)).to_have_attribute(
            "aria-current", "page")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)

    visit("Indbakke", "Indbakke")
    row = page.locator("#inbox-rows > tr").filter(has_text="Mette Larsen")
    expect(row).to_contain_text("København (101)")  # the admin sees every municipality
    shot("console-page-inbox")

    visit("Ansøgninger", "Ansøgninger")
    expect(page.get_by_role("row").filter(has_text="Ole Sørensen")).to_contain_text(
        "Venter på afgørelse")
    shot("console-page-applications")

    visit("Kort", "Kort")
    page.get_by_label("Frikort-ID, navn eller CPR-nummer").fill("Jensen")
    page.get_by_role("button", name="Søg").click()
    expect(page.get_by_role("heading", name="1 kort fundet for »Jensen«")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Ali Jensen")).to_contain_text("Deaktiveret")
    shot("console-page-cards-search")

    page.goto(f"/console/cards/{JENS_CARD}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Frikort {JENS_CARD} · Jens Hansen")
    expect(page.get_by_role("heading", name="Saldo pr. år")).to_be_visible()
    expect(page.locator("body")).to_contain_text("120385-xxxx")  # the CPR number, masked
    expect(page.locator("body")).not_to_contain_text("1203854417")
    shot("console-page-card")

    visit("Arbejdsgivere", "Arbejdsgivere")
    expect(page.get_by_role("link", name="Café Solsikken ApS")).to_be_visible()
    expect(page.get_by_role("link", name="Havefirmaet Grøn Hånd")).to_be_visible()
    shot("console-page-employers")
    page.get_by_role("link", name="Café Solsikken ApS").click()
    expect(page).to_have_url(re.compile(rf"/console/employers/{CAFE_CVR}$"))
    expect(page.get_by_role("row").filter(has_text="Jens Hansen")).to_have_count(1)
    shot("console-page-employer")

    visit("Overblik", re.compile(r"^Overblik \d{4}$"))
    expect(page.get_by_role("img", name="Udstedte og brugte frikort pr. år")).to_be_visible()
    expect(page.get_by_role("heading", name="Beskeder botten ikke forstod")).to_be_visible()
    expect(page.locator("table.fallbacks")).to_contain_text(UNDERSTOOD_BY_NOBODY)
    # Answers given inside the application (a name, "sms") are not "not understood".
    expect(page.locator("table.fallbacks")).not_to_contain_text("Ole Sørensen")
    shot("console-page-overview")

    visit("Loftbeløb", "Loftbeløb")
    this_year = str(danish_day(dt.datetime.now(dt.UTC)).year)  # the year the demo seeded
    expect(page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=this_year))
           ).to_contain_text("Demoværdi")  # the demo's placeholder cap, labelled as such
    shot("console-page-caps")

    visit("Brugere", "Brugere")
    expect(page.get_by_role("rowheader", name="sagsbehandler.aarhus")).to_be_visible()
    shot("console-page-users")
