"""What employers may do by message: only a verified employer's contacts get card figures."""

from __future__ import annotations

import re

from bot.context import Step
from bot.textmatch import fold
from bot.texts import text
from danish.wording import kroner
from ledger.errors import CardNotFound


OFFERED_REGISTRATION = "offered_registration"
"""`last_topic` after telling a sender who is not an employer how to register: "ja" may follow."""


LAST_CARD = "last_checked_card"
"""State: the card an employer checked last, for a follow-up about "him" or "her"."""
PRONOUN = re.compile(r"\b(han|hun|ham|hende|hans|hendes)\b")
"""An employee spoken of ("hvor meget har hun tilbage"): the card just checked or reported."""


def require_verified(step: Step) -> bool:
    if not step.identity.is_employer:
        step.say("employer_only")
        step.state["last_topic"] = OFFERED_REGISTRATION
        return False
    if not step.identity.employer_verified:
        step.say("employer_unverified")
        step.state["last_topic"] = "employer_unverified"  # "hvorfor?" next: what happens now
        return False
    return True


def start_check(step: Step) -> None:
    if not require_verified(step):
        return
    number = step.entity("card_number")
    named = employees_named(step)
    if number is not None and named and number not in _own_cards(step):
        number = None  # "jeg har betalt jens 45000 i år": an amount beside a name, not a card
    if named:  # "har jens og mette stadig aktive kort?", "er 48213 og mette aktive"
        for card in ([number] if number else []) + [c for c in named if c != number][:3]:
            show_card(step, card)
        return
    if number is None:
        if PRONOUN.search(fold(step.inbound.text)) and step.state.get(LAST_CARD):
            show_card(step, str(step.state[LAST_CARD]))  # "hvor meget har hun tilbage"
            return
        step.start_flow("check_card")
        step.ask("card_number", "ask_card_number")
        return
    show_card(step, number)


def _own_cards(step: Step) -> set[str]:
    cvr = step.identity.employer_cvr
    return {card for _, card in step.turn.employees(cvr)} if cvr else set()


def employees_named(step: Step) -> list[str]:
    """The cards of this employer's own employees named by first name in the message."""
    return employees_in(step, step.inbound.text)


def employees_in(step: Step, text: str) -> list[str]:
    """The cards of this employer's own employees named by first name in `text`."""
    if not step.identity.employer_cvr:
        return []
    words = set(fold(text).split())
    words |= {w[:-1] for w in words if w.endswith("s") and len(w) > 3}  # "mettes nummer"
    return [card for first_name, card in step.turn.employees(step.identity.employer_cvr)
            if fold(first_name) in words]


def continue_check(step: Step) -> None:
    number = step.entity("card_number")
    if number is None:
        step.say("not_understood_slot", question=text("ask_card_number"))
        return
    step.end_flow()
    show_card(step, number)


def show_card(step: Step, number: str) -> None:
    try:
        card, balance = step.ledger.card_year(number)
    except CardNotFound:
        step.say("card_unknown", card=number)
        return
    if card.status != "active":
        step.say("card_check_inactive", card=number)
        return
    if balance.remaining_ore is None:
        step.say("card_check_active_no_cap", card=number, year=balance.year)
        return
    step.state[LAST_CARD] = number
    demo = text("balance_demo_label") if balance.cap_is_demo else ""
    step.say("card_check_active", card=number, remaining=kroner(balance.remaining_ore),
             year=balance.year, demo=demo)
