"""The demo chat (/demo) in a real browser: the page's own JavaScript talks to the live app."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.browser import Shot

CAP = "42.766 kr."
"""The demo cap (the 2025 amount, loaded as a labelled demo value for this year)."""


def test_mette_asks_what_the_cap_is_and_sees_the_answer(page: Page, shot: Shot) -> None:
    page.goto("/demo")
    expect(page).to_have_title("Frikort-assistenten - demo")

    page.get_by_label("Du skriver som").select_option(label="Borger: Mette Larsen (frikort 51736)")
    page.get_by_label("Besked").fill("hvad er loftet")
    page.get_by_role("button", name="Send").click()

    mine = page.locator("#log .msg.me")
    expect(mine).to_have_text(["hvad er loftet"])
    answer = page.locator("#log .msg.bot").last
    expect(answer).to_contain_text(CAP)
    expect(answer).to_contain_text("skattefrit")
    expect(page.get_by_label("Besked")).to_have_value("")  # ready for the next message
    assert shot("demo-chat").stat().st_size > 0
