"""Handing a conversation to a person: offered when asked or stuck, at once in a crisis."""

from __future__ import annotations

import datetime as dt

from bot.context import Step
from bot.crisis import Crisis

FLOW = "handoff"
CRISIS_AT = "crisis_at"
"""State: when and of what kind the last crisis was, so the wait for a person is never silent."""
CRISIS_WAIT = dt.timedelta(hours=24)
"""For this long after a crisis, every message while the person waits gets a reply."""


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


def escalate(step: Step, *, reason: str) -> None:
    """To a person now. A flow in progress stays as it is (a read-back keeps its reservation
    until it expires): the caseworker sees it in the transcript. On the phone the line
    decides how (bot/voice): the municipality's number now, or a callback request."""
    if step.live:
        step.to_person = reason
        step.decide("handoff")
        return
    step.turn.escalate(urgent=False, reason=reason)
    step.state["handoff_ack_at"] = step.turn.now.isoformat()
    step.state.pop(CRISIS_AT, None)
    step.say("escalated", response_hours=step.config.handoff_response_hours)
    step.decide("handoff")


def crisis(step: Step, found: Crisis) -> None:
    """Answers with what to do now (112 first for acute danger, Livslinien for suicidal
    thoughts) and puts the conversation first in the caseworkers' inbox, whatever else is
    going on."""
    step.end_flow()
    step.turn.escalate(urgent=True, reason=f"crisis:{found.kind}")
    step.state["handoff_ack_at"] = step.turn.now.isoformat()
    step.state[CRISIS_AT] = {"at": step.turn.now.isoformat(), "kind": found.kind}
    step.say(f"crisis.{found.kind}{'_other' if found.someone_else else ''}")
    step.decide("crisis")


def waiting_after_crisis(step: Step) -> bool:
    """While someone in a crisis waits for a person, nothing they write meets silence ("er du
    der?"): each message gets what to do now again, and that a person is on the way."""
    crisis_at = step.state.get(CRISIS_AT)
    if not isinstance(crisis_at, dict) or step.turn.handoff != "waiting":
        return False
    if step.turn.now - dt.datetime.fromisoformat(str(crisis_at["at"])) > CRISIS_WAIT:
        return False
    suicide = crisis_at.get("kind") == "suicide"
    if crisis_at.get("followed_up"):  # said once in full; after that, shorter
        step.say("crisis_waiting_short_suicide" if suicide else "crisis_waiting_short")
    else:
        step.say("crisis_waiting_suicide" if suicide else "crisis_waiting")
        step.state[CRISIS_AT] = {**crisis_at, "followed_up": True}
    step.decide("handoff")
    return True
