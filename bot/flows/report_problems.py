"""Figures in a wage report that cannot be used as written: said back and asked again, while
what could be read (the card, the other figure) is kept."""

from __future__ import annotations

import re

from bot.context import Step, speaks_as_employer
from bot.flows.employer import employees_named
from bot.flows.report_reading import Reading
from bot.textmatch import fold

QUESTIONS = (("card_number", "ask_card_number"), ("amount", "ask_amount"), ("hours", "ask_hours"))
"""The report's slots in the order they are asked, with their questions."""


def refuse_problems(step: Step, reading: Reading, asking: str | None) -> bool:
    """Figures that cannot be used as written are said back and asked again; True if any."""
    if not reading.problems:
        return False
    problem = reading.problems[0]
    if problem == "future_date":
        not_paid_yet(step, reading, asking)
        return True
    key = {"negative": "amount_negative", "scientific": "amount_unreadable",
           "extra_pay_unknown": "several_amounts_extra"}.get(problem, problem)
    step.say(key)
    slot = "hours" if problem == "several_hours" else "amount"
    step.slots.pop(slot, None)
    if asking not in ("confirm", "create_employment", "check_rate"):
        _keep_the_rest(step, reading, slot)
        step.state["asking"] = slot  # the several_* texts ask for the total themselves
        if not key.startswith("several_"):
            step.ask(slot, dict(QUESTIONS)[slot])
    return True


PAID_ON = "paid_on"
"""`asking` after a payment date still to come: the day it was paid, if it was."""


def not_paid_yet(step: Step, reading: Reading, asking: str | None) -> None:
    """A payment date still to come: nothing is reported for it. A read-back already waiting
    keeps its JA/NEJ (its own date is today or earlier). A new report keeps its figures and
    asks for the day, since "på lørdag" is often meant as "i lørdags"."""
    if asking in ("confirm", "create_employment", "check_rate"):
        step.say("paid_in_future")
        return
    _keep_the_rest(step, reading, "")
    step.state["asking"] = PAID_ON
    step.say("paid_in_future_ask")


def _keep_the_rest(step: Step, reading: Reading, slot: str) -> None:
    """"jens 2 timer eller 3 timer 600 kr": the hours are asked again, Jens and the 600 kr
    are kept (never over a figure already given)."""
    if len(reading.parts) != 1:
        return
    part = reading.parts[0]
    named = employees_named(step)
    card = part.card_number or (named[0] if len(named) == 1 else None)
    if card:
        step.slots.setdefault("card_number", card)
    if slot != "amount" and len(set(part.amounts)) == 1 and not part.rates:
        step.slots.setdefault("amount", f"{part.amounts[0]:.2f}")
    if slot != "hours" and len(set(part.hours)) == 1:
        step.slots.setdefault("hours", f"{part.hours[0].normalize():f}")


_DELETE_REPORT = re.compile(r"\b(slet|slette|fjern|fjerne|annuller\w*|tilbagefor\w*|ret|rette|"
                            r"retter|fortryd|fortryde)\b.{0,30}indberetning\w*|"
                            r"\bindberetning\w*\b.{0,60}\b(forkerte?|fejl|slettes|rettes|"
                            r"annulleres|fjernes)\b|"
                            r"\b(indberettede|indberettet|skrev|skrevet|registreret|registrerede|"
                            r"tastede|indtastet|tastet|meldte)\b"
                            r"(?!.*\b(eindkomst|skat\w*|lonsystem\w*)\b)"
                            r".*\b(skulle|forkerte?|fejl|for (meget|lidt|mange|fa)|i stedet for)\b|"
                            r"\b(slet|slette|fjern|fjerne|annuller\w*)\b.{0,20}\blon(nen)?\b|"
                            r"\bkom (\w+ )?til at (registrere|indberette|skrive|sende|taste|"
                            r"indtaste|melde)\b|"
                            r"\b(kan|skal) (det|den|de|lonnen|belobet|timerne|indberetningen) "
                            r"(rettes|andres|laves om|slettes|fjernes|trakkes tilbage)\b|"
                            r"\b(indberettet|indberettede|registreret|sendt|skrevet|meldt|"
                            r"kommet)\b.{0,40}"
                            r"\b(to gange|dobbelt)\b|"
                            r"\b(skrev|skrevet|indberettede|meldte|tastede)\b.*"
                            r"\bhvordan (andrer|retter|sletter|fortryder) (jeg|vi|man)\b|"
                            r"\bforkerte? (dato|uge|dag|maned)\b|"
                            r"\bhvordan bliver (det|den|de) rettet\b|"
                            r"\bfejl i (\w+ )?(sidste |seneste )?indberetning\w*|"
                            r"\bfortryd\w* (\w+ ){0,2}(lonnen|indberetning\w*)\b|"
                            r"\b(tastede|skrev|indtastede) (\w+ )?forkert\w* "
                            r"(frikort ?nummer|kortnummer)\b|"
                            r"\b(timerne|belobet|lonnen) (\w+ ){0,3}er for (mange|meget)\b|"
                            r"\b(skrevet|skrev|indberettet|meldt|sat) \d+ timer\b"
                            r".*\bkun( \w+)? \d+\b|"
                            r"\bforkerte? (belob|timer|timetal|lon|antal)\b.{0,40}"
                            r"\b(indberetning\w*|kan (i|du)|ret|rette|andre)\b|"
                            r"\b(reported|registered|entered|sent) (the )?wrong\b|"
                            r"\bwrong (hours|amount|salary|pay)\b.*\b(change|fix|correct)|"
                            r"\bfejl i (\w+ )?(lon|lonnen|indberetning\w*|timer)\b.*"
                            r"\bskal (vaere|vare|have vaeret)\b")
"""An employer who wants a posted report undone or changed: only a caseworker can."""
_ELSEWHERE = re.compile(r"\b(e ?indkomst|skat\w*|lonsystem\w*|lonseddel\w*)\b")
"""Pay reported somewhere else by mistake (eIndkomst): a rule answer, not our report."""


def asks_to_undo_report(step: Step) -> bool:
    """An employer asking to cancel or change a report already made ("annuller
    indberetningen fra i dag")."""
    folded = fold(step.inbound.text)
    employer = step.identity.is_employer or (
        not step.identity.is_card_holder and speaks_as_employer(step.inbound.text))
    about_the_employer = step.identity.is_card_holder and _THEIR_EMPLOYER.search(folded)
    return bool(employer or about_the_employer) and _DELETE_REPORT.search(folded) is not None \
        and _ELSEWHERE.search(folded) is None


_THEIR_EMPLOYER = re.compile(r"\b(chef\w*|arbejdsgiver\w*|firmaet|boss|cafeen)\b.{0,30}"
                             r"\b(har|har \w+) (skrevet|indberettet|meldt|tastet|sendt)\b")
"""A card holder whose employer reported wrong figures: the same answer (a caseworker can)."""
