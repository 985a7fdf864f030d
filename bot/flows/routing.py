"""Which flow answers a message: keywords first, then the flow in progress, then the intent."""

from __future__ import annotations

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
    link,
    post_job,
    register_employer,
    report_wage,
    task_hours,
    task_replies,
)
from bot.keywords import Keyword, keyword_of
from bot.textmatch import fold
from bot.texts import text
from ledger.tasks.records import Frequency
from nlu import FALLBACK_INTENT

RULE_INTENTS_PREFIXES = ("faq_", "employer_faq_")
ONGOING: dict[str, tuple[Callable[[Step, str | None], None], Callable[[Step], str | None]]] = {
    report_wage.FLOW: (report_wage.proceed, report_wage.resume_question),
    apply_card.FLOW: (apply_card.proceed, apply_card.resume_question),
    register_employer.FLOW: (register_employer.proceed, register_employer.resume_question),
    "check_card": (lambda step, _: employer.continue_check(step),
                   lambda step: text("ask_card_number")),
    handoff.FLOW: (handoff.proceed, lambda step: text("offer_human")),
    post_job.FLOW: (post_job.proceed, post_job.resume_question),
    task_hours.FLOW: (task_hours.proceed, task_hours.resume_question),
    jobs.DIGEST_FLOW: (jobs.digest_answer, jobs.digest_question),
}
FLOW_ENTITIES = ("card_number", "amount", "hours", "date", "cvr", "cpr")


def route(step: Step) -> None:
    keyword = keyword_of(step.inbound.text)
    if _always_keywords(step, keyword):
        return
    if step.turn.opted_out:
        return  # STOP means no messages at all until START (crisis aside)
    if step.turn.handoff != "bot":
        return  # a person owns the conversation: the bot stays quiet
    if _session_keywords(step, keyword):
        return
    answer = _yes_no(step, keyword)
    if step.flow in ONGOING:
        _continue_flow(step, answer)
        return
    if keyword is not None and keyword.name == "BALANCE":
        balance.show(step)
        return
    if jobs.take_choice(step):
        return  # "2" after a list of tasks
    if post_job.is_command(step.inbound.text):
        post_job.start(step)  # "opslå job: ...", whatever the classifier thinks of the rest
        return
    if answer == "YES" and task_replies.bare_yes(step):
        return  # "JA" to "Svar JA 12 for at bekræfte", without the number
    if task_hours.wants(step) and not looks_like_question(step):
        task_hours.start(step)  # "3 timer 450 kr" after our prompt about a finished task
        return
    _by_intent(step)


def _always_keywords(step: Step, keyword: Keyword | None) -> bool:
    if keyword is None or keyword.name not in ("STOP", "START"):
        return False
    if keyword.name == "STOP":
        step.end_flow()
        step.turn.set_opted_out(True)
        step.say("stop")
    else:
        step.turn.set_opted_out(False)
        step.say("start")
    return True


def _session_keywords(step: Step, keyword: Keyword | None) -> bool:
    if step.inbound.shared_phone:
        link.by_shared_contact(step, step.inbound.shared_phone)
        return True
    if keyword is None:
        return False
    if keyword.name == "LINK":
        link.with_code(step, keyword.args)
    elif keyword.name == "MORE":
        if not faq.more(step):
            step.say("more_nothing")
    elif keyword.name == "HELP":
        step.end_flow()
        step.say("menu")
    elif keyword.name == "HUMAN":
        handoff.offer(step)
    elif keyword.name == "CANCEL" and step.flow:
        step.end_flow()
        step.say("cancel_words_reply")
    elif keyword.name.startswith("JOB"):
        _job_keyword(step, keyword)
    elif keyword.name.startswith("TASK_"):
        return task_replies.handle(step, keyword)
    else:
        return False
    return True


def _job_keyword(step: Step, keyword: Keyword) -> None:
    """JOB [postcode], JOB DAGLIG|UGENTLIG [postcode], JOB STOP: a new subject, so any flow in
    progress ends (as HJÆLP ends it), and a bare number afterwards answers the list."""
    step.end_flow()
    if keyword.name == "JOB_STOP":
        jobs.digest_off(step)
    elif keyword.name == "JOB_DIGEST":
        frequency: Frequency = "weekly" if keyword.args[0] == "weekly" else "daily"
        jobs.digest_on(step, frequency, keyword.args[1] if len(keyword.args) > 1 else None)
    else:
        jobs.show(step, keyword.args[0] if keyword.args else None)


def _yes_no(step: Step, keyword: Keyword | None) -> str | None:
    if keyword is not None and keyword.name in ("YES", "NO"):
        return keyword.name
    return {"affirm": "YES", "deny": "NO"}.get(step.intent)


def _continue_flow(step: Step, answer: str | None) -> None:
    """Feeds the message to the flow, unless it is clearly a rule question or a cry for help."""
    if step.flow == handoff.FLOW and answer is None:
        step.end_flow()  # not an answer to "a person?": treat it as a new message
        _by_intent(step)
        return
    if is_frustrated(step.inbound.text):
        handoff.offer(step)  # "det forstår jeg ikke" must not count as NEJ to a read-back
        return
    proceed, question = ONGOING[step.flow or ""]
    has_flow_entities = any(step.entity(name) for name in FLOW_ENTITIES)
    confident = step.confidence >= step.config.confident
    if answer is None and confident and not has_flow_entities and looks_like_question(step):
        if step.intent.startswith(RULE_INTENTS_PREFIXES):
            faq.answer(step, step.intent)
            again = question(step)
            if again:
                step.say_text(f"{_resume_prefix(step)} {again}")
            return
        if step.intent == "human_handoff":
            handoff.offer(step)
            return
    step.answered_flow = step.flow
    proceed(step, answer)


QUESTION_WORDS = frozenset(
    "hvad hvor hvordan hvorfor hvem hvornar hvilken hvilke ma kan skal er gaelder galder "
    "taller bliver far what how can may".split())


def looks_like_question(step: Step) -> bool:
    """A rule question interrupts a flow; a plain answer to the flow's question does not."""
    words = fold(step.inbound.text).split()
    return "?" in step.inbound.text or bool(words and words[0] in QUESTION_WORDS)


RESUME_PREFIXES = {apply_card.FLOW: "resume_apply_prefix",
                   post_job.FLOW: "jobs.resume_post_prefix",
                   jobs.DIGEST_FLOW: "jobs.resume_digest_prefix"}


def _resume_prefix(step: Step) -> str:
    return text(RESUME_PREFIXES.get(step.flow or "", "resume_prefix"))


_INTENT_FLOWS: dict[str, Callable[[Step], None]] = {
    "check_balance": balance.show,
    "apply_card": apply_card.start,
    "employer_check_card": employer.start_check,
    "employer_report_wage": report_wage.start,
    "employer_register": register_employer.start,
    "human_handoff": handoff.offer,
    "find_job": jobs.find,
    "employer_post_job": post_job.start,
}
_SIMPLE_REPLIES = {
    "goodbye": "goodbye", "thanks": "thanks", "help": "menu", "affirm": "menu", "deny": "menu",
    "out_of_scope": "out_of_scope",
}


def _by_intent(step: Step) -> None:
    intent = step.intent
    if intent == FALLBACK_INTENT:
        _misunderstood(step)
        return
    step.state["misunderstood"] = 0
    if is_frustrated(step.inbound.text):
        handoff.offer(step)
    elif intent.startswith(RULE_INTENTS_PREFIXES):
        faq.answer(step, intent)
    elif intent in _INTENT_FLOWS:
        _INTENT_FLOWS[intent](step)
    elif intent == "greet":
        _greet(step)
    else:
        step.say(_SIMPLE_REPLIES.get(intent, "menu"))


def _misunderstood(step: Step) -> None:
    """The first miss asks again in simpler words; the second in a row offers a person."""
    misses = int(step.state.get("misunderstood", 0)) + 1
    step.state["misunderstood"] = misses
    if misses >= 2 or is_frustrated(step.inbound.text):
        step.state["misunderstood"] = 0
        handoff.offer(step)
    else:
        step.say("fallback_first")


def _greet(step: Step) -> None:
    name = step.identity.holder_name or step.identity.employer_name
    if name:
        step.say("greet", name=name.split()[0])
    else:
        step.say("greet_anonymous")
