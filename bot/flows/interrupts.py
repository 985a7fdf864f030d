"""A flow in progress and a message that may or may not answer its question.

A bare number answers the question just asked; JA and NEJ answer a JA/NEJ question. Anything
clearly else is answered as itself and the flow's question is asked again: a rule question,
"hvor står det", SALDO, an employer's card check. A new request (an application, a job) ends
the flow with a word about it, except while a wage report waits for JA: that is asked first,
so nothing reserved is dropped without the employer's word. A flow left for hours does not
take a new request as an answer.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.context import Step, pending_reports
from bot.crisis import is_frustrated
from bot.flows import balance, employer, faq, handoff, post_job
from bot.flows.intents import RESCUE_CONFIDENT, RULE_PREFIXES, by_intent, flow_label
from bot.flows.registry import FLOWS, FlowSpec, leave_flow
from bot.keywords import Keyword
from bot.textmatch import fold, looks_like_question, opens_as_question
from bot.texts import text

FLOW_STALE = dt.timedelta(hours=3)
"""After this long without a word, a flow's question is no longer assumed to be answered."""
SWITCH_CONFIDENT = 0.85
"""How sure the NLU must be of a new request before it ends a flow in progress."""
SLOT_ENTITIES = ("card_number", "amount", "hours", "date", "cvr", "cpr")
_HEDGE = re.compile(r"^(ja|jo|ok|okay|jep)\b.*\b(men|hvis|maske|vent|lige|hvad|hvordan|hvorfor)\b")
_CHECK_WORDS = re.compile(r"\b(tjek|tjekke|check|gyldig|gyldigt|aktiv|aktivt|virker|godkendt)\b")
_BARE_VALUE = re.compile(r"^[\s\d.,:/½-]*(kr|kroner|t|timer|time)?[\s.!]*$", re.IGNORECASE)
_A_PERSON = re.compile(r"\b(menneske|medarbejder|sagsbehandler\w*|person|nogen at tale med|"
                       r"tale med nogen|snakke med nogen)\b")
"""A person asked for by name in the middle of a flow ("ring til mig" may answer its question)."""
_CALL_ME = re.compile(r"\b(ring|ringe|ringer)\b.*\b(mig|os)\b|\bopringning\b")
_NEW_FLOWS = ("apply_card", "employer_post_job", "employer_register", "find_job")
PENDING_ASKING = ("confirm", "create_employment", "check_rate")


def reports_wait(step: Step) -> bool:
    """Wage reports are reserved and wait for the employer's JA: at the read-back, or under a
    question asked since ("hvilken periode?" about one more). Nothing else may drop them."""
    return step.state.get("asking") in PENDING_ASKING or bool(pending_reports(step.state))


def yes_no(step: Step, keyword: Keyword | None) -> str | None:
    """YES, NO, HEDGE ("ja men ...": not a yes to act on) or None.

    The classifier's affirm counts as YES only when the message has words ("ja tak, det er
    fint"): a 👍 alone does not post a wage report."""
    folded = fold(step.inbound.text)
    if _HEDGE.match(folded) and (keyword is None or keyword.name != "YES"):
        return "HEDGE"
    if keyword is not None and keyword.name in ("YES", "NO"):
        return keyword.name
    if not folded:
        return None
    return {"affirm": "YES", "deny": "NO"}.get(step.intent)


def continue_flow(step: Step, answer: str | None, keyword: Keyword | None) -> None:
    spec = FLOWS[step.flow or ""]
    if step.flow == handoff.FLOW:
        _answer_offer(step, spec, answer)
        return
    if is_frustrated(step.inbound.text):
        handoff.escalate(step, reason="frustrated_in_flow")  # they asked for help, not a menu
        return
    explicit_no = keyword is not None and keyword.name == "NO"
    if explicit_no and not spec.accepts_no(step) and not has_slot_entities(step):
        leave_flow(step)
        return
    if spec.explains(step) or _interrupted(step, spec, answer, keyword):
        return
    if step.idle >= FLOW_STALE and not answers_the_question(step, answer) \
            and clear_request(step):
        _after_a_pause(step, spec, answer)
        return
    step.answered_flow = step.flow
    step.decide(f"flow:{step.flow}")
    spec.proceed(step, answer)


def _answer_offer(step: Step, spec: FlowSpec, answer: str | None) -> None:
    """"Vil du tale med en medarbejder?": JA or NEJ, else a new message."""
    if answer in ("YES", "NO"):
        step.decide("handoff")
        spec.proceed(step, answer)
        return
    step.end_flow()
    by_intent(step, answer)


def _interrupted(step: Step, spec: FlowSpec, answer: str | None,
                 keyword: Keyword | None) -> bool:
    """Answers what is clearly not an answer to the flow's question, then asks it again."""
    name = keyword.name if keyword else None
    if name == "HUMAN" or (answer is None and step.intent == "human_handoff"
                           and step.confidence >= step.config.confident
                           and _A_PERSON.search(fold(step.inbound.text))) or _call_me(step):
        handoff.escalate(step, reason="asked_for_person")  # asked outright: no JA/NEJ first
        return True
    if name == "SOURCE":
        faq.sources(step)
    elif name == "BALANCE":
        balance.show(step)
    elif answer is None and _is_card_check(step):
        step.decide("card_check")
        employer.show_card(step, step.entity("card_number") or "")
    elif answer is None and (card := _her_room(step)) is not None:
        step.decide("card_check")  # "hvor meget må hun tjene i alt?" mid-report: her figures
        employer.show_card(step, card)
    elif answer is None and _is_rule_question(step):
        faq.answer(step, step.intent)
    elif answer is None and _is_new_request(step):
        _switch(step, spec, answer)
        return True
    else:
        return False
    resume(step, spec)
    return True


def _call_me(step: Step) -> bool:
    """"kan I ringe til mig" asks for a person, except where it answers the question asked
    (an application's "how do you want to be contacted?")."""
    return (step.state.get("asking") != "contact" and step.intent == "human_handoff"
            and step.confidence >= step.config.confident
            and _CALL_ME.search(fold(step.inbound.text)) is not None)


def resume(step: Step, spec: FlowSpec) -> None:
    question = spec.question(step)
    if question:
        buttons = ("JA", "NEJ") if spec.yes_no(step) else ()
        step.say_text(f"{text(spec.resume_prefix)} {question}", buttons=buttons)


def _is_rule_question(step: Step) -> bool:
    return (step.intent.startswith(RULE_PREFIXES) and looks_like_question(step.inbound.text)
            and (step.confidence >= step.config.confident or _selector_agrees(step))
            # "må han arbejde mere end 10 timer om ugen?": figures inside a question are part
            # of the question, not the answer to the flow's
            and (not has_slot_entities(step)
                 or opens_as_question(step.inbound.text, min_words=4)))


def _selector_agrees(step: Step) -> bool:
    """An unsure intent whose own answer the response selector is sure of ("hvad med am
    bidrag" in the middle of a report): a question all the same."""
    selector = step.parse.get("response_selector")
    if not selector:
        return False
    best = selector["default"]["response"]
    return best["intent_response_key"].startswith(f"{step.intent}/") \
        and best["confidence"] >= RESCUE_CONFIDENT


def _is_card_check(step: Step) -> bool:
    """"tjek kort 48213" or "er 48213 gyldigt?" in the middle of something else."""
    return (step.identity.is_employer and step.entity("card_number") is not None
            and step.intent == "employer_check_card"
            and _CHECK_WORDS.search(fold(step.inbound.text)) is not None)


def _her_room(step: Step) -> str | None:
    """The card of the report under way, when the employer asks how much its holder may earn
    or has left."""
    card = step.slots.get("card_number")
    if not (card and step.identity.is_employer and step.intent == "faq_limit"
            and employer.PRONOUN.search(fold(step.inbound.text))):
        return None
    return str(card)


def _is_new_request(step: Step) -> bool:
    if post_job.is_command(step.inbound.text) and step.flow != post_job.FLOW:
        return True  # "opslå job: ..." is a posting, never a correction of a report
    return (step.intent in _NEW_FLOWS and step.confidence >= SWITCH_CONFIDENT
            and not has_slot_entities(step) and not is_bare_value(step))


def _switch(step: Step, spec: FlowSpec, answer: str | None) -> None:
    """A new request ends the flow, except a read-back waiting for JA: that comes first."""
    if reports_wait(step):
        step.say("pending_first")
        resume(step, spec)
        step.decide(f"flow:{step.flow}")
        return
    if flow_label(step) == f"flow:{step.flow}":
        resume(step, spec)  # "registrer virksomhed" again while registering: go on
        step.decide(f"flow:{step.flow}")
        return
    step.end_flow()
    step.say("flow_left_for_new")
    by_intent(step, answer)


def _after_a_pause(step: Step, spec: FlowSpec, answer: str | None) -> None:
    """Hours later, a new request is answered as new; a half-filled flow is let go (said so),
    a read-back waiting for JA is reminded of after the answer."""
    if reports_wait(step):
        flow, state = step.flow, {k: step.state.get(k) for k in step.state}
        by_intent(step, answer)
        if step.flow != flow:  # the answer started something new: keep the read-back first
            step.state.clear()
            step.state.update(state)
            step.replies.clear()
            step.outcome = None
            step.say("pending_first")
            step.decide(f"flow:{flow}")
        resume(step, spec)
        return
    step.end_flow()
    step.say("flow_forgotten")
    by_intent(step, answer)


def has_slot_entities(step: Step) -> bool:
    return any(step.entity(name) for name in SLOT_ENTITIES)


def is_bare_value(step: Step) -> bool:
    """Just a number (with a unit perhaps): "40000", "450 kr", "4,5", "4 1/2"."""
    return _BARE_VALUE.match(step.inbound.text) is not None and any(
        c.isdigit() for c in step.inbound.text)


def answers_the_question(step: Step, answer: str | None) -> bool:
    return answer in ("YES", "NO") or is_bare_value(step) or has_slot_entities(step)


def clear_request(step: Step) -> bool:
    """Something the person plainly wants now, not an answer to an old question."""
    return (step.intent not in ("affirm", "deny", "nlu_fallback", "thanks", "greet")
            and step.confidence >= step.config.confident)
