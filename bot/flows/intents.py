"""A message outside any flow, by its intent, read in the asker's role.

The classifier reads words, not who writes them: "vi har udbetalt 750 kr til en medarbejder"
from a verified employer is a wage report whatever it resembles, and "jeg fik 500 kr fra caféen"
from a card holder is a question about reporting, not a report the holder may make.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.context import Step
from bot.crisis import is_frustrated
from bot.flows import (
    apply_card,
    balance,
    employer,
    faq,
    handoff,
    jobs,
    post_job,
    register_employer,
    report_wage,
)
from bot.textmatch import fold, looks_like_question
from nlu import FALLBACK_INTENT

RULE_PREFIXES = ("faq_", "employer_faq_")
_REPORTING = re.compile(r"\b(indberet\w*|udbetalt|udbetale|betalt|indrapporter\w*)\b")
_POSTING = re.compile(r"\b(opsla\w*|sla (et |en )?(job|opgave)|opgave\w*|ledig\w*|soger (folk|en))\b")
_ONLY_SYMBOLS = re.compile(r"^[\W_]*$")

_FLOW_STARTS: dict[str, tuple[Callable[[Step], None], str]] = {
    "check_balance": (balance.show, "balance"),
    "apply_card": (apply_card.start, "flow:apply_card"),
    "employer_check_card": (employer.start_check, "card_check"),
    "employer_report_wage": (report_wage.start, "flow:report_wage"),
    "employer_register": (register_employer.start, "flow:register_employer"),
    "human_handoff": (handoff.offer, "handoff"),
    "find_job": (jobs.find, "jobs"),
    "employer_post_job": (post_job.start, "flow:post_job"),
}
_SOCIAL = {"goodbye": "goodbye", "thanks": "thanks", "help": "menu", "out_of_scope": "out_of_scope"}


def reread(step: Step) -> str:
    """The intent as meant by this asker."""
    intent = step.intent
    identity = step.identity
    folded = fold(step.inbound.text)
    if identity.is_employer and not identity.is_card_holder:
        if (intent in ("employer_post_job", "faq_reporting", "employer_faq_payroll",
                       FALLBACK_INTENT, "check_balance", "employer_report_wage")
                and _REPORTING.search(folded) and not _POSTING.search(folded)
                and not looks_like_question(step.inbound.text)):
            return "employer_report_wage"
    elif identity.is_card_holder:
        if intent == "employer_report_wage":
            return "faq_reporting"  # only the employer reports; say how, and who to ask
        named = step.entity("card_number")
        if intent == "employer_check_card" and named in (None, identity.card_number):
            return "faq_card_validity"  # "virker mit kort": their own card
    return intent


def by_intent(step: Step, answer: str | None) -> None:
    intent = reread(step)
    if intent == FALLBACK_INTENT:
        if answer is not None or _ONLY_SYMBOLS.match(step.inbound.text):
            _ack(step)  # a stray "ja", "ok" or 👍: one short line, not the whole menu
            return
        misunderstood(step)
        return
    step.state["misunderstood"] = 0
    if is_frustrated(step.inbound.text):
        handoff.offer(step)
    elif intent.startswith(RULE_PREFIXES):
        faq.answer(step, intent)
    elif intent in _FLOW_STARTS:
        start, label = _FLOW_STARTS[intent]
        step.decide(label)
        start(step)
    elif intent == "greet":
        greet(step)
    elif intent in ("affirm", "deny") or answer is not None:
        _ack(step)
    else:
        key = _SOCIAL.get(intent, "menu")
        step.say(key)
        step.decide(key)


def _ack(step: Step) -> None:
    step.say("ack")
    step.decide("ack")


def misunderstood(step: Step) -> None:
    """The first miss asks again in simpler words; the second in a row offers a person."""
    misses = int(step.state.get("misunderstood", 0)) + 1
    step.state["misunderstood"] = misses
    step.decide("fallback")
    if misses >= 2 or is_frustrated(step.inbound.text):
        step.state["misunderstood"] = 0
        handoff.offer(step)
    else:
        step.say("fallback_first")


def greet(step: Step) -> None:
    name = step.identity.holder_name or step.identity.employer_name
    if name:
        step.say("greet", name=name.split()[0])
    else:
        step.say("greet_anonymous")
    step.decide("greet")
