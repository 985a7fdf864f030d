"""The card a wage report is for, checked as soon as it is named: an employer should hear that
a card is closed before typing hours and amounts, not after."""

from __future__ import annotations

from bot.context import Step
from ledger.errors import CardNotActive, CardNotFound

CHECKED = "card_checked"
"""Slot: the card number already found usable, so it is read once per report."""


def unusable(step: Step) -> bool:
    """True (and said, the report ended) when the named card is closed; an unknown number is
    asked again. False when there is no card yet or it is active."""
    number = step.slots.get("card_number")
    if not number or step.slots.get(CHECKED) == number:
        return False
    try:
        card = step.ledger.card(str(number))
    except CardNotFound as error:
        step.slots.pop("card_number", None)
        step.say_text(error.message)
        return False
    if card.status == "active":
        step.slots[CHECKED] = number
        return False
    step.end_flow()
    step.say("report_card_inactive", card=number)
    step.state["last_topic"] = CardNotActive.code  # "hvad gør jeg så?" is about this
    return True
