"""Handing a conversation to a person: offered when asked or stuck, at once in a crisis."""

from __future__ import annotations

from bot.context import Step

FLOW = "handoff"


def offer(step: Step) -> None:
    step.end_flow()
    step.start_flow(FLOW)
    step.ask("offer", "offer_human", buttons=("JA", "NEJ"))


def proceed(step: Step, answer: str | None) -> None:
    step.end_flow()
    if answer == "YES":
        escalate(step, reason="asked_for_person")
    else:
        step.say("offer_declined")


def escalate(step: Step, *, reason: str) -> None:
    step.turn.escalate(urgent=False, reason=reason)
    step.say("escalated", response_hours=step.config.handoff_response_hours)


def crisis(step: Step, kind: str) -> None:
    """Answers with Livslinien and 112 and escalates as urgent, whatever else is going on."""
    step.end_flow()
    step.turn.escalate(urgent=True, reason=f"crisis:{kind}")
    step.say("crisis")
