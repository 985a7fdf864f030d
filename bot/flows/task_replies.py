"""Replies to our task messages: JA <n> (the employer confirms who takes it), AFLYS <n>
(either side gives up a place, without blame), UDEBLEV <n> (nobody came), AFLYS OPGAVE <n>
(the employer takes a task down).

The numbers are the ones in the ledger's messages ("Svar JA 12"); another employer's number
is "not found", like one that does not exist. Where the ledger already writes to the sender
(a confirmation goes to both sides), the bot adds nothing on SMS and Telegram; see
`bot.flows.jobs` for why.
"""

from __future__ import annotations

from bot.context import Step
from bot.flows import jobs
from bot.flows.job_format import reply_title
from bot.keywords import Keyword
from db.errors import DomainError
from smalljobs.errors import AssignmentNotFound


def handle(step: Step, keyword: Keyword) -> bool:
    """True when the keyword was a task reply and is answered; False leaves it to routing
    (a card holder's "ja 2" in another flow, say)."""
    number = keyword.args[0] if keyword.args else None
    employer = step.identity.is_employer
    holder = step.identity.is_card_holder
    if keyword.name == "TASK_CONFIRM":
        if not employer or number is None:
            return False
        _confirm(step, int(number))
    elif keyword.name == "TASK_NO_SHOW":
        if not employer or number is None:
            return False
        _no_show(step, int(number))
    elif keyword.name == "TASK_TAKE_DOWN" and employer and number is not None:
        _take_down(step, int(number))
    elif keyword.name in ("TASK_CANCEL", "TASK_TAKE_DOWN"):
        _cancel(step, number, employer=employer, holder=holder)
    else:
        return False
    return True


def bare_yes(step: Step) -> bool:
    """A plain "JA" from an employer with takers waiting: with one, it is that one (people
    forget the number); with several, the bot asks for it. False when no one is waiting."""
    cvr = step.identity.employer_cvr
    if cvr is None or not step.identity.employer_verified:
        return False
    waiting = [a for a in step.jobs.assignments_for_employer(cvr) if a.status == "reserved"]
    if not waiting:
        return False
    if len(waiting) > 1:
        step.say("jobs.confirm_which", example=waiting[0].id)
        return True
    _confirm(step, waiting[0].id)
    return True


def _confirm(step: Step, number: int) -> None:
    try:
        step.jobs.confirm_assignment(number, employer_cvr=step.identity.employer_cvr or "",
                                     actor=step.actor())
    except DomainError as error:
        step.say_text(error.message)
        return
    if step.reads_outbox_elsewhere:
        step.say("jobs.see_sms")


def _no_show(step: Step, number: int) -> None:
    try:
        done = step.jobs.mark_no_show(number, employer_cvr=step.identity.employer_cvr or "",
                                      actor=step.actor())
    except DomainError as error:
        step.say_text(error.message)
        return
    step.say("jobs.no_show_noted", first_name=done.holder_first_name,
             title=reply_title(done.task.title))


def _take_down(step: Step, number: int) -> None:
    try:
        task = step.jobs.cancel_task(number, employer_cvr=step.identity.employer_cvr or "",
                                     actor=step.actor())
    except DomainError as error:
        step.say_text(error.message)
        return
    step.say("jobs.task_taken_down", title=reply_title(task.title), task=task.id)


def _cancel(step: Step, number: str | None, *, employer: bool, holder: bool) -> None:
    """A holder gives their place back; an employer (on the same phone, if it is both) calls
    off a holder's place. The holder's own place is tried first."""
    if holder:
        if not employer or number is None:
            jobs.withdraw(step, number)
            return
        try:
            step.jobs.cancel_assignment(int(number), by="holder", actor=step.actor(),
                                        card_number=step.identity.card_number)
        except AssignmentNotFound:
            pass  # not theirs as a holder: perhaps one of their business's
        except DomainError as error:
            step.say_text(error.message)
            return
        else:
            step.say("jobs.withdrawn")
            return
    if not employer:
        step.say("jobs.not_linked")
        return
    if number is None:
        step.say("jobs.employer_cancel_usage")
        return
    try:
        done = step.jobs.cancel_assignment(int(number), by="employer", actor=step.actor(),
                                           employer_cvr=step.identity.employer_cvr)
    except DomainError as error:
        step.say_text(error.message)
        return
    step.say("jobs.employer_cancelled", first_name=done.holder_first_name,
             number=done.card_number, title=reply_title(done.task.title))
