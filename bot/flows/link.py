"""Linking the sender to a card: LINK with the grant letter's code, or a shared own contact."""

from __future__ import annotations

import re

from bot.context import Step
from bot.flows import faq
from bot.textmatch import fold
from conversations.linking import LinkOutcome
from ledger.errors import ContactInUse


NOT_LINKED = "not_linked"
"""`last_topic` after telling someone to link: the card number alone may follow."""
LINK_CODE = "link_code"
"""`last_topic` after asking for the letter's code of the card number just sent."""


_PHONE_GONE = re.compile(
    r"\b((mistet|tabt|mistede|tabte|mist) (min|mit) (gamle )?(tlf|telefon\w*|mobil\w*)|"
    r"(min|mit) (tlf|telefon|mobil) (er|blev) (stjalet|vaek|vak|tabt))\b")
"""A lost or stolen phone: it may still be linked to the card."""
_FINDS_NUMBER = re.compile(r"\b(finder|finde|find|fa|husker|huske|glemt|hvad er)\b.*\b(nummer\w*|nr|"
                           r"frikortnummer\w*|id)\b|\b(nummer\w*|nr)\b.*\b(finder|finde|find|"
                           r"husker|huske|glemt|igen)\b")
"""... and the card's number went with it: how to find the number comes first."""


def phone_gone(step: Step) -> bool:
    """A lost or stolen phone ("har mistet min telefon og skriver fra et nyt nummer"): a person
    removes the old one, LINK from the new one; the card number alone may come next."""
    folded = fold(step.inbound.text)
    if not _PHONE_GONE.search(folded):
        return False
    if _FINDS_NUMBER.search(folded) and not step.identity.is_card_holder:
        faq.answer_key(step, "faq_card_validity/forgot_number")
        step.say("phone_gone_short")  # the old phone may still be linked to the card
        step.state["last_topic"] = NOT_LINKED
        return True
    told_to_link(step, "phone_gone")
    step.decide("link")
    return True


def told_to_link(step: Step, key: str) -> None:
    """Says `key` (how to link) and remembers it, so a card number alone comes next."""
    step.say(key)
    step.state["last_topic"] = NOT_LINKED


def with_code(step: Step, args: tuple[str, ...]) -> None:
    if len(args) != 2:
        step.say("link_usage")
        return
    card, code = args
    outcome = step.turn.link_with_code(card, code)
    if outcome is LinkOutcome.LINKED:
        step.say("link_ok", card=card)
    elif outcome is LinkOutcome.ALREADY_LINKED:
        step.say("link_already", card=card)
    elif outcome is LinkOutcome.LOCKED:
        step.say("link_locked")
    else:
        step.say("link_wrong", left=step.turn.link_tries_left())


def by_shared_contact(step: Step, phone: str) -> None:
    try:
        card = step.turn.link_telegram_by_phone(phone)
    except ContactInUse:
        step.say("contact_in_use")
        return
    if card is None:
        step.say("contact_unknown")
    else:
        step.say("contact_linked", card=card)
