"""The demo page's "ring op" mode in a real browser: the call as text turns and a keypad."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.browser import Shot


def test_jens_rings_up_says_saldo_keys_the_digits_and_hears_the_amount_in_words(
    page: Page, shot: Shot,
) -> None:
    page.goto("/demo")
    page.get_by_label("Du skriver som").select_option(label="Borger: Jens Hansen (frikort 48213)")
    page.get_by_role("button", name="Ring op").click()
    expect(page.locator("#log .voice").first).to_contain_text("Hej Jens")

    page.get_by_label("Besked").fill("saldo")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#log .voice").last).to_contain_text("sidste to cifre")
    page.locator("#keypad").get_by_role("button", name="1", exact=True).click()
    page.locator("#keypad").get_by_role("button", name="3", exact=True).click()
    earned = "Du har tjent to tusind og toogtres kroner og halvtreds øre"
    expect(page.locator("#log .voice").filter(has_text=earned)).to_have_count(1)
    expect(page.locator("#log")).not_to_contain_text("2.062,50")
    assert shot("demo-call").stat().st_size > 0
    page.get_by_role("button", name="Læg på").click()
    expect(page.locator("#log .note").last).to_contain_text("Opkaldet er slut")
