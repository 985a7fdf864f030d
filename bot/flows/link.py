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
    r"(min|mit) (gamle )?(tlf|telefon|mobil) (er|blev) (stjalet|vaek|vak|tabt))\b")
"""A lost or stolen phone: it may still be linked to the card."""
_FINDS_NUMBER = re.compile(r"\b(finder|finde|find|fa|husker|huske|glemt|hvad er)\b.*"
                           r"\b(nummer\w*|nr|frikortnummer\w*|id)\b|"
                           r"\b(nummer\w*|nr)\b.*\b(finder|finde|find|husker|huske|glemt|igen)\b|"
                           r"\bbrevet med (\w+ )?(frikort)?nummer\w*")
"""... and the card's number went with it: how to find the number comes first."""


def phone_gone(step: Step) -> bool:
    """A lost or stolen phone ("har mistet min telefon og skriver fra et nyt nummer"): a person
    removes the old one, LINK from the new one; the card number alone may come next."""
    folded = fold(step.inbound.text)
    if not _PHONE_GONE.search(folded):
        return False
    if _FINDS_NUMBER.search(folded):  # a linked holder hears the number, others where it is
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


_CARD_ONLY = re.compile(
    r"^\s*(?:(?:mit )?(?:frikort|kort)(?:nummer|nr)?(?: er| nr| nummer)?\s*)?(\d{5})\s*$")
"""The card number alone ("48213", "mit frikort er 48213")."""
_CODE_ONLY = re.compile(r"^\s*(\d{4})\s*$")
_CARD_IS_MINE = re.compile(r"^(?:hej |hej\W+)?(?:(?:jeg har|har|jeg er|mit)\s+"
                           r"(?:et\s+)?(?:frikort|kort)\w*\s*(?:nr|nummer|id)?\W*|"
                           r"mit\s+(?:nr|nummer|id)\W*)(?:er\s+)?(\d{5})\W*$")
"""An unknown number saying which card is theirs ("jeg har frikort 48213"): linking, not an
employer's card check."""
_NO_CODE = re.compile(r"^(?!.*\b(id|nummer\w*|nr|frikortnummer\w*)\b).*"
                      r"\b(har ikke|har ik|mistet|tabt|smidt|kan ikke finde|finder ikke)\b.*"
                      r"\b(brev\w*|kode\w*)\b|"
                      r"\bhvad er (min |den )?kode\w*|\bhvor (er|finder jeg) (min |den )?kode")
"""No letter or no code to link with."""


def in_two_steps(step: Step, topic: str | None) -> bool:
    """Told to link, someone sends the card number alone: ask for the code from the letter,
    then link with the two (not an employer's card check of that number)."""
    card = step.state.pop("link_card", None)
    if step.identity.is_employer or step.identity.is_card_holder:
        return False
    if topic == NOT_LINKED:  # still unknown: the number may come a message or two later
        step.state["last_topic"] = NOT_LINKED
    own = _CARD_IS_MINE.match(fold(step.inbound.text))
    if (own or topic == NOT_LINKED and (own := _CARD_ONLY.match(step.inbound.text))):
        step.state["link_card"] = own.group(1)
        step.state["last_topic"] = LINK_CODE
        step.say("link_ask_code", card=own.group(1))
        step.decide("link")
        return True
    if _NO_CODE.search(fold(step.inbound.text)):
        step.say("link_no_code")  # the code is in the municipality's letter; else a person
        step.decide("link")
        return True
    if topic == LINK_CODE and card and (code := _CODE_ONLY.match(step.inbound.text)):
        step.decide("link")
        with_code(step, (card, code.group(1)))
        return True
    return False
