"""Which flow answers a message. Crisis is handled before this (bot/engine.py); then, the first
that applies:

1. STOP, START and AFMELD, always.
2. After STOP: silence. With a person on the conversation: a short acknowledgement at most
   once an hour, or the conversation back to the bot when the person says they are done.
3. Keywords that work anywhere: LINK, HJÆLP, MENNESKE, MERE, "hvor står det", JOB, task
   replies, INGEN PÅMINDELSER / PÅMINDELSER, and the ways out of a flow (annuller, glem det,
   fortryd).
4. A flow in progress takes the message as the answer to its question, unless it clearly is
   something else (bot/flows/interrupts.py).
5. Otherwise the intent, read in the asker's role (bot/flows/intents.py).
"""

from __future__ import annotations

import datetime as dt
import re

from bot.context import SPOKE_AS_EMPLOYER, Step, speaks_as_employer
from bot.flows import (balance, faq, handoff, jobs, link, post_job, report_wage, task_hours,
                       task_replies)
from bot.flows.intents import by_intent, menu
from bot.flows.interrupts import continue_flow, reports_wait, resume, yes_no
from bot.flows.registry import FLOWS, leave_flow
from bot.flows.report_problems import asks_to_undo_report
from bot.keywords import Keyword, keyword_of
from bot.textmatch import fold, looks_like_question
from outreach.store import pauses
from smalljobs.records import Frequency

ACK_EVERY = dt.timedelta(hours=1)
"""While a person has the conversation, how often the bot says it has the message."""
_ASKS_WHEN = re.compile(r"\b(hvornar|hvor lang\w* tid|hvor lange)\b")
"""Asking when a person will answer: answered whenever asked."""


def route(step: Step) -> None:
    keyword = keyword_of(step.inbound.text)
    if not step.identity.is_card_holder and speaks_as_employer(step.inbound.text):
        step.state[SPOKE_AS_EMPLOYER] = True
    before = step.flow
    if _always_keywords(step, keyword):
        _back_to_the_question(step, before)
        return
    # STOP means no messages at all until START (crisis aside), and while a person has the
    # conversation the bot stays out of the way; but someone who calls is always answered
    # (what they hear is in the transcript the caseworker reads).
    if step.turn.opted_out and not step.live:
        step.decide("silent")
        return
    if step.turn.handoff != "bot" and not step.live and not _served_while_waiting(step, keyword):
        _with_a_person(step, keyword)
        return
    if _session_keywords(step, keyword):
        _back_to_the_question(step, before)
        return
    answer = yes_no(step, keyword)
    if step.flow in FLOWS:
        continue_flow(step, answer, keyword)
        return
    if keyword is not None and keyword.name == "BALANCE":
        step.decide("balance")
        balance.show(step)
        return
    if keyword is not None and keyword.name == "SOURCE":
        faq.sources(step)
        return
    if _small_job_replies(step, answer):
        return
    by_intent(step, answer)


def _small_job_replies(step: Step, answer: str | None) -> bool:
    """Answers to the small-jobs messages that carry no keyword of their own."""
    if jobs.take_choice(step):
        step.decide("jobs")
        return True  # "2" after a list of tasks
    if post_job.is_command(step.inbound.text):
        step.decide("flow:post_job")
        post_job.start(step)  # "opslå job: ...", whatever the classifier thinks of the rest
        return True
    if answer == "YES" and task_replies.bare_yes(step):
        step.decide("jobs")
        return True  # "JA" to "Svar JA 12 for at bekræfte", without the number
    if task_hours.wants(step) and not looks_like_question(step.inbound.text):
        step.decide("flow:task_hours")
        task_hours.start(step)  # "3 timer 450 kr" after our prompt about a finished task
        return True
    return False


def _always_keywords(step: Step, keyword: Keyword | None) -> bool:
    if keyword is None or keyword.name not in ("STOP", "START", "UNSUBSCRIBE"):
        return False
    if keyword.name == "UNSUBSCRIBE" and _has_small_jobs(step):
        step.say("unsubscribe_which")  # the job (AFMELD 1) or every message (STOP)?
        step.decide("stop")
        return True
    if keyword.name in ("STOP", "UNSUBSCRIBE"):
        step.end_flow()
        step.turn.set_opted_out(True)
        step.say("stop")
        step.decide("stop")
    else:
        step.turn.set_opted_out(False)
        step.say("start")
        step.decide("start")
    return True


def _back_to_the_question(step: Step, before: str | None) -> None:
    """A keyword answered in the middle of a flow (HJÆLP, START, MERE, LINK) is followed by the
    flow's question again, so a JA that comes next answers what it seems to answer."""
    if step.flow in FLOWS and step.flow == before and step.replies and step.flow != "handoff":
        resume(step, FLOWS[step.flow])


def _has_small_jobs(step: Step) -> bool:
    """A card holder with a place on a small job or the job digest may mean the job by AFMELD."""
    number = step.identity.card_number
    if number is None:
        return False
    return bool(step.jobs.assignments_for_card(number)) or step.jobs.digest(number) is not None


_TASKS = frozenset({"check_balance", "employer_report_wage", "employer_check_card"})
"""What the bot still does while someone waits for a person: a wait can be a day, and an
employer who reported an employee's crisis must still be able to report his wages."""


def _served_while_waiting(step: Step, keyword: Keyword | None) -> bool:
    """A balance, a wage report or a card check is the bot's own work, not the caseworker's:
    done while the request waits (not once a person has taken the conversation), with the
    crisis line kept beside it for a day after a crisis."""
    if step.turn.handoff != "waiting":
        return False
    if step.flow in FLOWS and step.state.get(handoff.SERVED_WHILE_WAITING):
        return True  # a task begun while waiting (a flow begun before is the caseworker's)
    if keyword is not None and keyword.name == "BALANCE" \
            or keyword is None and step.intent in _TASKS:
        step.state[handoff.SERVED_WHILE_WAITING] = True
        handoff.remind_after_crisis(step)
        return True
    return False


def _with_a_person(step: Step, keyword: Keyword | None) -> None:
    """A caseworker has (or will have) the conversation: the bot stays out of the way, but the
    person is not left talking into silence, and may call the request off."""
    if keyword is not None and keyword.name == "CANCEL" \
            and step.turn.withdraw_escalation(step.actor()):
        step.say("handoff_withdrawn")
        step.decide("handoff")
        return
    invited = step.state.pop(handoff.INVITED, False) and step.turn.handoff == "waiting"
    if handoff.waiting_after_crisis(step):
        return
    if step.turn.handoff == "waiting" and _ASKS_WHEN.search(fold(step.inbound.text)):
        # "hvornår svarer de?" has an answer, so it is never met by silence (a bare
        # "hallo??" is acknowledged once an hour, as any other message).
        step.say("already_waiting_when", response_hours=step.config.handoff_response_hours)
        step.state["handoff_ack_at"] = step.turn.now.isoformat()
        step.decide("handoff")
        return
    last = None if invited else step.state.get("handoff_ack_at")
    if last and step.turn.now - dt.datetime.fromisoformat(str(last)) < ACK_EVERY:
        step.decide("silent")
        return
    step.state["handoff_ack_at"] = step.turn.now.isoformat()
    step.say("already_waiting")
    step.decide("handoff")


def _session_keywords(step: Step, keyword: Keyword | None) -> bool:
    if step.inbound.shared_phone:
        link.by_shared_contact(step, step.inbound.shared_phone)
        return True
    if keyword is None:
        return False
    name = keyword.name
    if name == "LINK":
        # "mistet min telefon, skriver fra et nyt nummer": the lost-phone help, not only LINK.
        if keyword.args or not link.phone_gone(step):
            step.decide("link")
            link.with_code(step, keyword.args)
    elif name == "MORE":
        if not faq.more(step):
            step.say("more_nothing")
            step.decide("menu")
    elif name == "HELP":
        menu(step)
    elif name == "HUMAN" and step.flow not in FLOWS:
        handoff.asked(step)
    elif name == "CANCEL" and step.flow in FLOWS:
        leave_flow(step)
    elif name == "CANCEL" and (step.state.get("last_topic") == report_wage.REPORT_POSTED
                               or asks_to_undo_report(step)):
        step.say("posted_fix")  # "fortryd" right after JA: the report is already in
        step.decide("report_fix")
    elif name == "CANCEL" and jobs.has_place(step):
        step.say("jobs.how_to_cancel")  # "nej fortryd, kan ikke onsdag": still booked until
        step.decide("jobs")  # AFLYS JOB, so the employer is not left waiting
    elif name == "CANCEL":
        step.say("ack")
        step.decide("ack")
    elif name.startswith("JOB"):
        _job_keyword(step, keyword)
    elif name in ("REMINDERS_OFF", "REMINDERS_ON"):
        turn, on = step.turn, name == "REMINDERS_ON"
        turn.within(lambda uow: pauses.set_reminders(uow.session, turn.conversation_id, on, uow.now))
        step.say("reminders_on" if name == "REMINDERS_ON" else "reminders_off")
        step.decide("reminders")
    elif name.startswith("TASK_"):
        step.decide("jobs")
        return task_replies.handle(step, keyword)
    else:
        return False
    return True


def _job_keyword(step: Step, keyword: Keyword) -> None:
    """JOB [postcode], JOB DAGLIG|UGENTLIG [postcode], JOB STOP: a new subject, so any flow in
    progress ends (as HJÆLP ends it), and a bare number afterwards answers the list."""
    if reports_wait(step) and step.flow in FLOWS:
        step.say("pending_first")
        resume(step, FLOWS[step.flow])
        step.decide(f"flow:{step.flow}")
        return
    step.end_flow()
    step.decide("jobs")
    if keyword.name == "JOB_STOP":
        jobs.digest_off(step)
    elif keyword.name == "JOB_DIGEST":
        frequency: Frequency = "weekly" if keyword.args[0] == "weekly" else "daily"
        jobs.digest_on(step, frequency, keyword.args[1] if len(keyword.args) > 1 else None)
    else:
        jobs.show(step, keyword.args[0] if keyword.args else None)
