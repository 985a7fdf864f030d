"""After a small job: the employer answers our prompt ("Jens har udført opgaven havearbejde.
Svar med timer og beløb, fx 3 timer 450 kr") and the answer becomes a wage report.

Like the wage-report flow: one question at a time for what is missing, a read-back, and
JA reports through `ledger.tasks.record_task_hours` (the employment is created if needed and
the ledger's cap rules apply); the card holder is told by the ledger. NEJ reports nothing,
and the prompt stays open for a new answer.
"""

from __future__ import annotations

from decimal import Decimal

from bot.context import Step
from bot.flows.job_format import reply_title, short_title
from bot.flows.report_notices import tell_employer
from bot.flows.report_wage import take_bare_answer
from bot.texts import template, text
from danish.money import MoneyFormatError, parse_kroner
from danish.wording import hours_text, kroner
from db.errors import DomainError
from ledger.errors import AmountOutOfBounds, HoursImplausible
from smalljobs.records import AssignmentView

FLOW = "task_hours"
QUESTIONS = (("assignment", "jobs.hours_which"), ("hours", "ask_hours"),
             ("amount", "ask_amount"))
MAX_HOURS = Decimal(10_000)
"""What a wage report can hold at all; the ledger judges what is plausible."""


def wants(step: Step) -> bool:
    """A verified employer with an open prompt writes hours or an amount: it is the answer,
    unless it names a card none of the prompts is about (then it is an ordinary report)."""
    identity = step.identity
    if not (identity.employer_cvr and identity.employer_verified):
        return False
    if not (step.entity("hours") or step.entity("amount")):
        return False
    card = step.entity("card_number")
    return any(card is None or number == card
               for number in step.jobs.pending_prompt_cards(identity.employer_cvr))


def _matching(step: Step, pending: list[AssignmentView]) -> list[AssignmentView]:
    card = step.entity("card_number")
    return [a for a in pending if card is None or a.card_number == card]


def start(step: Step) -> None:
    pending = _matching(step, step.jobs.pending_hour_prompts(step.identity.employer_cvr or ""))
    step.start_flow(FLOW)
    if len(pending) == 1:
        step.slots["assignment"] = pending[0].id
    _take_figures(step)
    _advance(step)


def resume_question(step: Step) -> str | None:
    asking = step.state.get("asking")
    if asking == "confirm":
        return text("confirm_again")
    if asking == "assignment":
        return _which_text(step)
    return next((text(key) for slot, key in QUESTIONS if slot == asking), None)


def proceed(step: Step, answer: str | None) -> None:
    asking = step.state.get("asking")
    if asking == "confirm":
        _confirm(step, answer)
    elif asking == "assignment":
        if _take_person(step):
            _take_figures(step)
            _advance(step)
        else:
            step.say("not_understood_slot", question=_which_text(step))
    elif _take_figures(step) or take_bare_answer(step, asking):
        _advance(step)
    else:
        step.say("not_understood_slot", question=resume_question(step) or "")


def _pending(step: Step) -> list[AssignmentView]:
    return step.jobs.pending_hour_prompts(step.identity.employer_cvr or "")


def _which_text(step: Step) -> str:
    people = ", ".join(
        f"{a.holder_first_name} ({a.card_number}, {short_title(a.task.title)})"
        for a in _pending(step)[:3])
    return text("jobs.hours_which", people=people)


def _take_person(step: Step) -> bool:
    """Which prompt the answer is about: the Frikort-ID or the first name."""
    card = step.entity("card_number")
    words = step.inbound.text.lower().split()
    for assignment in _pending(step):
        if card == assignment.card_number or assignment.card_number in words or \
                assignment.holder_first_name.lower() in words:
            step.slots["assignment"] = assignment.id
            return True
    return False


def _take_figures(step: Step) -> bool:
    found = False
    for slot in ("hours", "amount"):
        value = step.entity(slot)
        if value is not None:
            step.slots[slot] = value
            found = True
    return found


def _advance(step: Step) -> None:
    slots = step.slots
    if "hours" in slots and not _usable_hours(slots["hours"]):
        slots.pop("hours")
    if "amount" in slots and _ore(slots["amount"]) is None:
        slots.pop("amount")
    for slot, key in QUESTIONS:
        if slot not in slots:
            step.state["asking"] = slot
            step.say_text(_which_text(step) if slot == "assignment" else text(key))
            return
    step.state["asking"] = "confirm"
    _read_back(step)


def _usable_hours(value: str) -> bool:
    worked = Decimal(value)
    return worked.is_finite() and 0 <= worked <= MAX_HOURS and worked == round(worked, 2)


def _ore(amount: str) -> int | None:
    try:
        return parse_kroner(amount)
    except MoneyFormatError:
        return None


def _assignment(step: Step) -> AssignmentView | None:
    wanted = int(step.slots["assignment"])
    return next((a for a in _pending(step) if a.id == wanted), None)


def _read_back(step: Step) -> None:
    assignment = _assignment(step)
    if assignment is None:  # answered meanwhile (another phone of the same employer)
        step.end_flow()
        step.say("jobs.hours_already")
        return
    amount = _ore(step.slots["amount"]) or 0
    worked = hours_text(Decimal(step.slots["hours"]), template("hours_one"),
                        template("hours_many"))
    body = text("jobs.hours_readback", amount=kroner(amount), hours=worked,
                first_name=assignment.holder_first_name, card=assignment.card_number,
                title=reply_title(assignment.task.title))
    remaining = step.ledger.balance(assignment.card_number).remaining_ore
    if remaining is not None and amount > remaining:
        note = text("readback_over_cap", counted=kroner(remaining),
                    over=kroner(amount - remaining))
        body = f"{body} {note}"
    step.say_text(body, buttons=("JA", "NEJ"))


def _confirm(step: Step, answer: str | None) -> None:
    if answer != "YES" and _take_figures(step):
        _advance(step)  # "nej, 500 kr": corrected, read back again
        return
    if answer is None:
        step.say("confirm_again", buttons=("JA", "NEJ"))
        return
    if answer == "NO":
        step.end_flow()
        step.say("jobs.hours_dropped")
        return
    slots = step.slots
    try:
        result = step.jobs.record_task_hours(
            int(slots["assignment"]), employer_cvr=step.identity.employer_cvr or "",
            worked=Decimal(slots["hours"]), amount_ore=_ore(slots["amount"]) or 0,
            actor=step.actor(), idempotency_key=step.idempotency_key("task_hours"))
    except (AmountOutOfBounds, HoursImplausible) as error:
        slots.pop("amount" if isinstance(error, AmountOutOfBounds) else "hours", None)
        step.say_text(error.message)
        _advance(step)
        return
    except DomainError as error:
        step.end_flow()
        step.say("report_refused", reason=error.message)
        return
    step.end_flow()
    tell_employer(step, result)
