"""SALDO: what a linked card holder has earned, has pending, and has left this year."""

from __future__ import annotations

from bot.compose import kroner, kroner_whole
from bot.context import Step
from bot.texts import text
from ledger.rules import current_warning


def show(step: Step) -> None:
    step.decide("balance")
    number = step.identity.card_number
    if number is None:
        step.say("not_linked")
        return
    balance = step.turn.balance(number)
    year = balance.year
    inactive = step.turn.card(number).status != "active"
    if balance.cap_ore is None:
        # Never "0 kr." while reported pay waits for the year's cap to be loaded.
        body = text("balance_no_cap", card=number, year=year,
                    reported=kroner(balance.posted_ore + balance.awaiting_cap_ore))
        step.say_text(f"{body} {text('card_inactive_note')}" if inactive else body)
        return
    # texts.py collapses whitespace, so the line's trailing space is added here.
    pending_line = (text("balance_pending_line", pending=kroner(balance.pending_ore)) + " "
                    if balance.pending_ore else "")
    demo = text("balance_demo_label") if balance.cap_is_demo else ""
    body = text("balance", card=number, year=year, posted=kroner(balance.posted_ore),
                pending_line=pending_line, remaining=kroner(balance.remaining_ore or 0),
                cap=kroner_whole(balance.cap_ore), demo=demo)
    level = current_warning(balance.used_ore, balance.cap_ore)
    if level is not None:
        body = f"{body} {text(f'balance_warning_{level}')}"
    if inactive:
        body = f"{body} {text('card_inactive_note')}"
    step.say_text(body)
