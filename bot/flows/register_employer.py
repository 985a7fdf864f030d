"""An employer registers by message; a caseworker verifies the CVR before reports count."""

from __future__ import annotations

from bot.context import Step
from bot.textmatch import asks_why, fold
from bot.texts import text
from db.errors import DomainError
from ledger import RegisterEmployer
from ledger.errors import EmployerExists, InvalidCvr
from ledger.service.lookups import normalise_cvr

FLOW = "register_employer"


def start(step: Step) -> None:
    if step.identity.is_employer and not step.entity("cvr"):  # already here (another CVR may be)
        step.say("register_you_are" if step.identity.employer_verified
                 else "employer_unverified_when")
        step.decide(f"flow:{FLOW}")
        return
    step.start_flow(FLOW)
    cvr = step.entity("cvr")
    if cvr and step.ledger.employer_registered(cvr):
        step.end_flow()
        step.say("register_exists", cvr=cvr)
        return
    if cvr:
        step.slots["cvr"] = cvr
        step.ask("name", "register_ask_name")
        return
    step.ask("cvr", "register_start")


_QUESTIONS = {"cvr": "register_ask_cvr", "name": "register_ask_name",
              "contact": "register_ask_contact"}
_YES_NO = frozenset({"ja", "nej", "ok", "okay", "jo", "ja tak", "nej tak"})


def explain_why(step: Step) -> bool:
    """"Hvorfor skal I bruge det?" about the question waiting: its reason, then the question."""
    asking = str(step.state.get("asking") or "")
    if asking not in _QUESTIONS or not asks_why(step.inbound.text):
        return False
    step.answered_flow = FLOW
    step.decide(f"flow:{FLOW}")
    step.say(f"register_why_{asking}")
    step.say(_QUESTIONS[asking])
    return True


def resume_question(step: Step) -> str | None:
    key = _QUESTIONS.get(str(step.state.get("asking") or ""))
    return text(key) if key else None


def proceed(step: Step, _: str | None) -> None:
    asking = step.state.get("asking")
    answer = " ".join(step.inbound.text.split())[:200]
    if asking == "cvr":
        try:
            step.slots["cvr"] = normalise_cvr(step.entity("cvr") or answer.replace(" ", ""))
        except InvalidCvr:
            digits = "".join(ch for ch in answer if ch.isdigit())
            step.say("register_cvr_digits_wrong" if len(digits) == 8 else "register_cvr_invalid")
            misses = int(step.slots.get("cvr_misses", 0)) + 1
            step.slots["cvr_misses"] = misses
            if misses >= 2:
                step.say("register_cvr_help")  # not the same line a third time
            return
        cvr = step.slots["cvr"]
        if step.ledger.employer_registered(cvr):
            step.end_flow()
            step.say("register_exists", cvr=cvr)
            return
        step.ask("name", "register_ask_name")
    elif asking in ("name", "contact") and fold(answer) in _YES_NO:
        step.say(f"{_QUESTIONS[asking]}_example")  # "ja" is not a name
    elif asking == "name":
        if not answer:  # only spaces or invisible characters: a company needs a name
            step.ask("name", "register_ask_name")
            return
        step.slots["name"] = answer
        step.ask("contact", "register_ask_contact")
    elif asking == "contact":
        step.slots["contact"] = answer
        _register(step)


def _register(step: Step) -> None:
    slots = step.slots
    channel = step.inbound.channel
    cmd = RegisterEmployer(
        cvr=slots["cvr"], name=slots["name"], contact_person=slots["contact"],
        phone=step.inbound.sender if channel == "sms" else None,
        telegram_id=step.inbound.sender if channel == "telegram" else None)
    step.end_flow()
    try:
        step.turn.execute(cmd, step.actor())
    except EmployerExists:
        step.say("register_exists", cvr=cmd.cvr)
        return
    except DomainError as error:
        step.say_text(error.message)
        return
    step.say("register_done", name=cmd.name)
