"""An employee's life changing: ill or in hospital, pregnant, in treatment or prison, drinking
again, the firm closing for a season or changing hands. No rule answer says what the employer
should do then, and one that only looks related (a payroll text) leaves them worse off than a
person would; so a person is offered at once."""

from __future__ import annotations

import re

from bot.context import Step, speaks_as_employer
from bot.flows import handoff
from bot.flows.report_problems import asks_to_undo_report
from bot.textmatch import fold

_LIFE_EVENT = re.compile(
    r"\b(syg|sygemeldt|sygelon\w*|indlagt|pa hospitalet|pa sygehuset|gravid|barsel\w*|"
    r"faengsel\w*|fangsel\w*|afsone\w*|i behandling|pa behandlingshjem|drikke igen|"
    r"kom fuld|var fuld|lukke\w* for vinteren|vinterlukke\w*|overtaget (firmaet|cafeen|"
    r"butikken|virksomheden)|(den )?nye? ejer|ikke (vaeret|varet|mod\w*) (her|pa arbejde) i)\b")
_SOMEONE_TO_TALK_TO = re.compile(
    r"\b(nogen|en) (hos jer|der|fra jer) (\w+ )?(vi|jeg) kan (tale|snakke|ringe) med\b")

_ASKS_ABOUT_THE_EVENT = re.compile(r"\b(sygelon\w*|sygedag\w*|barsel\w*)\b")
"""Sick pay or leave: no rule answer covers it, however sure the classifier is of one."""
_CARD_STATE = re.compile(r"\b(kort\w*|frikort\w*) (\w+ ){0,2}(aktiv\w*|gyldig\w*|lukket|i orden)\b")
"""Whether the card still works after the hospital stay: a card check answers that."""


def for_a_person(step: Step, *, sure_rule: bool) -> bool:
    """An employer telling of an employee's changed life, or asking for someone to talk to,
    gets a person; a rule question asked beside it that the NLU is sure of is answered
    instead (a sick employee's "hvor mange timer må han arbejde" still has its answer), and so
    is a report to be undone ("skal slettes, hun var syg")."""
    identity = step.identity
    if identity.is_card_holder or not (identity.is_employer
                                       or speaks_as_employer(step.inbound.text)):
        return False
    folded = fold(step.inbound.text)
    if _SOMEONE_TO_TALK_TO.search(folded):
        step.end_flow()
        handoff.escalate(step, reason="asked_for_person", on_request=True)
        return True
    sure_rule = sure_rule and not _ASKS_ABOUT_THE_EVENT.search(folded)
    if sure_rule or step.entity("card_number") or not _LIFE_EVENT.search(folded) \
            or _CARD_STATE.search(folded) or asks_to_undo_report(step):
        return False
    step.say("employee_situation")
    handoff.offer(step)
    return True
