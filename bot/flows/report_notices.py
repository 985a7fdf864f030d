"""What is said when wage reports are posted: to the employer here, and to the card holder
(through the outbox), with the holder's new figures."""

from __future__ import annotations

from decimal import Decimal

from bot.context import Step
from bot.texts import template, text
from danish.wording import hours_text, kroner
from ledger.results import WageReportResult


def tell_employer(step: Step, result: WageReportResult, *, many: bool = False) -> None:
    if result.status == "awaiting_cap":
        step.say("posted_awaiting_cap", card=result.card_number)
    elif result.over_cap_ore:
        step.say("posted_over_cap", counted=kroner(result.counted_ore),
                 over=kroner(result.over_cap_ore), card=result.card_number)
    elif many:
        step.say("posted_line", amount=kroner(result.amount_ore), card=result.card_number)
    else:
        step.say("posted", amount=kroner(result.amount_ore), card=result.card_number)


def tell_card_holder(step: Step, result: WageReportResult) -> None:
    hours = hours_said(result.hours)
    employer = step.identity.employer_name or ""
    balance = result.balance
    if balance.remaining_ore is None or result.status == "awaiting_cap":
        body = text("holder_notified_no_cap", employer=employer, amount=kroner(result.amount_ore),
                    hours=hours)
    else:
        body = text("holder_notified", employer=employer, amount=kroner(result.amount_ore),
                    hours=hours, earned=kroner(balance.posted_ore), year=balance.year,
                    remaining=kroner(balance.remaining_ore))
        if result.over_cap_ore:
            body = f"{body} {text('holder_over_cap_note', over=kroner(result.over_cap_ore))}"
    step.turn.notify_card_holder(result.card_number, body)


def hours_said(hours: Decimal) -> str:
    """'4 timer', '1 time', '4,5 timer'."""
    return hours_text(hours, template("hours_one"), template("hours_many"))
