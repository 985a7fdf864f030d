"""Logging in to the caseworker console (/console) in a real browser, and out again."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import Shot
from tests.e2e.live import DEMO_PASSWORD, LogIn

CASEWORKER = "sagsbehandler.aarhus"
CASEWORKER_NAME = "Sara Sagsbehandler (Aarhus)"
WRONG_LOGIN = "Forkert brugernavn eller adgangskode."
"""db/data/errors.da.yml: login_failed (it never says which of the two was wrong)."""


def test_a_caseworker_logs_in_after_a_wrong_password_and_out_again(
    page: Page, log_in: LogIn, shot: Shot,
) -> None:
    # Anonymous: a console page sends the browser to the login form, remembering where to.
    page.goto("/console/inbox")
    expect(page).to_have_url(re.compile(r"/console/login\?next=%2Fconsole%2Finbox$"))
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()

    # A wrong password: the Danish message, the username kept, the password not.
    page.get_by_label("Brugernavn").fill(CASEWORKER)
    page.get_by_label("Adgangskode").fill("forkert-adgangskode")
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("alert")).to_have_text(WRONG_LOGIN)
    expect(page.get_by_label("Brugernavn")).to_have_value(CASEWORKER)
    expect(page.get_by_label("Adgangskode")).to_have_value("")
    expect(page.get_by_role("button", name="Log ud")).to_have_count(0)
    shot("console-login-wrong-password")

    # The right password: on to the inbox that was asked for, as Sara of Aarhus.
    page.get_by_label("Adgangskode").fill(DEMO_PASSWORD)  # the documented one (README)
    page.get_by_role("button", name="Log ind").click()
    expect(page).to_have_url(re.compile(r"/console/inbox$"))
    expect(page.get_by_role("heading", name="Indbakke", level=1)).to_be_visible()
    expect(page.locator(".who-name")).to_have_text(CASEWORKER_NAME)
    expect(page.locator(".who-role")).to_have_text("Sagsbehandler, Aarhus (751)")
    expect(page.locator("#inbox-rows")).to_contain_text("Ingen venter på et menneske lige nu.")
    shot("console-inbox-empty")

    # Log out: the console is closed again.
    page.get_by_role("button", name="Log ud").click()
    expect(page).to_have_url(re.compile(r"/console/login$"))
    page.goto("/console/cards")
    expect(page).to_have_url(re.compile(r"/console/login\?next=%2Fconsole%2Fcards$"))
    expect(page.get_by_role("button", name="Log ud")).to_have_count(0)

    # The fixture's form login works too (what the other scenarios use).
    log_in(CASEWORKER, display_name=CASEWORKER_NAME)
    expect(page).to_have_url(re.compile(r"/console$"))
    expect(page.get_by_role("heading", name=f"Goddag, {CASEWORKER_NAME}")).to_be_visible()
