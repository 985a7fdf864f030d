"""Every outreach text, filled with the longest realistic values: at most 2 SMS segments,
LIX at most 30, GSM-7 only, and every placeholder known to the rule that fills it."""

from __future__ import annotations

import pytest

from bot.readability import lix
from bot.texts import text as bot_text
from danish.wording import gsm7_safe, segments
from outreach.rules import catalogue
from outreach.texts import fill

LONGEST: dict[str, str | int] = {
    "posted_ore": 42_766_00, "left_ore": 42_766_00, "cap_ore": 142_766_00,
    "amount_ore": 1_250_000_50, "card": "48213", "count": 12, "year": 2026, "percent": 100,
    "expires_at": "2026-12-24T22:59:00+00:00"}
TEXTS = [(rule.name, name) for rule in catalogue() for name in rule.texts]
CITIZEN_LIX = 30.0
MAX_SEGMENTS = 2


def test_every_rule_but_announcements_has_a_text() -> None:
    assert {name for name, _ in TEXTS} == {r.name for r in catalogue()} - {"announcement"}


@pytest.mark.parametrize(("rule_name", "variant"), TEXTS)
def test_text_is_short_plain_and_gsm7(rule_name: str, variant: str) -> None:
    rule = next(r for r in catalogue() if r.name == rule_name)
    message = fill(rule, variant, LONGEST)
    assert "{" not in message
    assert gsm7_safe(message) == message
    assert segments(message) <= MAX_SEGMENTS, message
    assert lix(message) <= CITIZEN_LIX, (round(lix(message), 1), message)


@pytest.mark.parametrize("key", ["reminders_off", "reminders_on"])
def test_the_bots_answers_to_reminder_keywords(key: str) -> None:
    message = bot_text(key)
    assert segments(message) <= MAX_SEGMENTS and lix(message) <= CITIZEN_LIX


def test_the_checks_can_fail() -> None:
    official = ("Kommunalbestyrelsen træffer afgørelse om tildeling af socialt frikort efter "
                "ansøgning, jf. bekendtgørelsens bestemmelser om dokumentationskrav.")
    assert lix(official) > CITIZEN_LIX
    assert segments("x" * 307) > MAX_SEGMENTS
