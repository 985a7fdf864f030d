"""Handing a conversation to a person: offered when asked or stuck, at once in a crisis."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.context import Step
from bot.crisis import Crisis
from bot.textmatch import fold

FLOW = "handoff"
CRISIS_AT = "crisis_at"
"""State: when and of what kind the last crisis was, so the wait for a person is never silent."""
SERVED_WHILE_WAITING = "served_while_waiting"
"""State: the bot began a task (a report, a card check) while the person waits for a person."""
INVITED = "handoff_invited"
"""State: we asked what it is about, so the next message while waiting is acknowledged."""
CRISIS_WAIT = dt.timedelta(hours=24)
"""For this long after a crisis, every message while the person waits gets a reply."""


_NAMES_A_PERSON = re.compile(
    r"\b(menneske\w*|person|personer|medarbejder\w*|sagsbehandler\w*|kontaktperson\w*|"
    r"radgiver\w*|human|agent|someone|ring|ringe|ringer|opringning|call|"
    r"(tale|snakke|skrive) med (en|nogen)|en (af|fra) (jer|jeres))\b")
"""Words that ask for a person outright ("jeg vil tale med et menneske", "ring til mig"); a
request in other words ("jeg forstår ikke brevet") is offered first."""


def asked(step: Step) -> None:
    """Someone who names a person gets one at once: asking them to confirm with JA is one more
    step for a request they already made. Anything vaguer is offered."""
    if _NAMES_A_PERSON.search(fold(step.inbound.text)):
        step.end_flow()
        escalate(step, reason="asked_for_person", on_request=True)
    else:
        offer(step)


def offer(step: Step) -> None:
    step.end_flow()
    step.start_flow(FLOW)
    step.ask("offer", "offer_human", buttons=("JA", "NEJ"))
    step.decide("handoff")


def proceed(step: Step, answer: str | None) -> None:
    step.end_flow()
    if answer == "YES":
        escalate(step, reason="asked_for_person")
    else:
        step.say("offer_declined")


def escalate(step: Step, *, reason: str, on_request: bool = False) -> None:
    """To a person now. A flow in progress stays as it is (a read-back keeps its reservation
    until it expires): the caseworker sees it in the transcript. On the phone the line
    decides how (bot/voice): the municipality's number now, or a callback request."""
    if step.live:
        step.to_person = reason
        step.decide("handoff")
        return
    step.turn.escalate(urgent=False, reason=reason)
    step.state.pop(SERVED_WHILE_WAITING, None)
    step.state["handoff_ack_at"] = step.turn.now.isoformat()
    if on_request:  # we ask what it is about, so the answer to that is acknowledged
        step.state[INVITED] = True
    step.state.pop(CRISIS_AT, None)
    step.say("escalated_on_request" if on_request else "escalated",
             response_hours=step.config.handoff_response_hours)
    step.decide("handoff")


def crisis(step: Step, found: Crisis) -> None:
    """Answers with what to do now (112 first for acute danger, Livslinien for suicidal
    thoughts) and puts the conversation first in the caseworkers' inbox, whatever else is
    going on."""
    step.end_flow()
    step.turn.escalate(urgent=True, reason=f"crisis:{found.kind}")
    step.state.pop(SERVED_WHILE_WAITING, None)
    step.state["handoff_ack_at"] = step.turn.now.isoformat()
    step.state[CRISIS_AT] = {"at": step.turn.now.isoformat(), "kind": found.kind,
                             "other": found.someone_else}
    step.say(f"crisis.{found.kind}{'_other' if found.someone_else else ''}")
    step.decide("crisis")


def _recent_crisis(step: Step) -> dict[str, Any] | None:
    crisis_at = step.state.get(CRISIS_AT)
    if not isinstance(crisis_at, dict) or step.turn.handoff != "waiting":
        return None
    if step.turn.now - dt.datetime.fromisoformat(str(crisis_at["at"])) > CRISIS_WAIT:
        return None
    return crisis_at


def remind_after_crisis(step: Step) -> None:
    """Before a task done while the person in danger waits, the short crisis line, for a day
    (not to someone who wrote about another person: they are not the one in danger)."""
    crisis_at = _recent_crisis(step)
    if crisis_at is not None and not crisis_at.get("other"):
        step.say(_waiting_text(crisis_at, short=True))


def _waiting_text(crisis_at: dict[str, Any], *, short: bool) -> str:
    kind = "_other" if crisis_at.get("other") else (
        "_suicide" if crisis_at.get("kind") == "suicide" else "")
    return f"crisis_waiting{'_short' if short else ''}{kind}"


def waiting_after_crisis(step: Step) -> bool:
    """While someone in a crisis waits for a person, nothing they write meets silence ("er du
    der?"): each message gets what to do now again, and that a person is on the way."""
    crisis_at = _recent_crisis(step)
    if crisis_at is None:
        return False
    followed_up = bool(crisis_at.get("followed_up"))  # said once in full; after that, shorter
    step.say(_waiting_text(crisis_at, short=followed_up))
    if not followed_up:
        step.state[CRISIS_AT] = {**crisis_at, "followed_up": True}
    step.decide("handoff")
    return True
