"""SALDO: what a linked card holder has earned, has pending, and has left this year."""

from __future__ import annotations

import re

from bot.context import Step
from bot.flows.link import told_to_link
from bot.textmatch import fold
from bot.texts import text
from danish.wording import kroner, kroner_whole
from ledger.errors import CardNotActive
from ledger.rules import current_warning

BALANCE_SHOWN = "balance_shown"
"""`last_topic` after SALDO showed an active card's figures: "hvorfor så lidt?" may follow."""
_LAST_YEAR = re.compile(r"\b(sidste ar|sidste aar|forrige ar|i fjor|sidste kalenderar)\b")
_YEAR = re.compile(r"\b(20\d\d)\b")


def asked_year(step: Step) -> int:
    """The year the question is about: "sidste år", "i 2025", or the current one."""
    today = step.turn.today
    folded = fold(step.inbound.text)
    if _LAST_YEAR.search(folded):
        return today.year - 1
    named = _YEAR.search(folded)
    if named and 2019 <= int(named.group(1)) <= today.year:
        return int(named.group(1))
    return today.year


def show(step: Step) -> None:
    step.decide("balance")
    number = step.identity.card_number
    if number is None:
        told_to_link(step, "not_linked")
        return
    if not step.inbound.proven:
        step.needs_proof = True  # a caller keys the last two digits of the card first
        return
    card, balance = step.ledger.card_year(number, asked_year(step))
    year = balance.year
    inactive = card.status != "active"
    step.state["last_topic"] = CardNotActive.code if inactive else BALANCE_SHOWN
    if balance.cap_ore is None:
        # Never "0 kr." while reported pay waits for the year's cap to be loaded.
        body = text("balance_no_cap", card=number, year=year,
                    reported=kroner(balance.posted_ore + balance.awaiting_cap_ore))
        step.say_text(f"{body} {text('card_inactive_note')}" if inactive else body)
        return
    if inactive and year == step.turn.today.year:
        # No "du kan tjene … mere" on a card that cannot be used for pay now.
        step.say("balance_inactive", card=number, year=year, posted=kroner(balance.posted_ore))
        return
    if year < step.turn.today.year:
        step.say("balance_past", card=number, year=year, posted=kroner(balance.posted_ore),
                 cap=kroner_whole(balance.cap_ore))
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


_ALSO_SURE = 0.6


def also_asked(step: Step) -> None:
    """"hvad har jeg tjent, og er der nogen jobs til mig": the balance too, after the first
    answer (a rule answer or the job list), for a card holder who asked for it in the message."""
    first = step.outcome or ""
    if step.flow is not None or not step.identity.is_card_holder or not (
            first == "jobs" or first.startswith(("faq_", "employer_faq_"))):
        return
    if any(clause["intent"]["name"] == "check_balance"
           and clause["intent"]["confidence"] >= _ALSO_SURE for clause in step.clauses):
        show(step)
