"""The flows that ask questions over several messages, and what the router needs of each.

A flow in progress owns the next message only when it is an answer to the flow's question;
the router (bot/flows/routing.py) asks the registry how to resume, whether NEJ is an answer to
the current question or a way out, and what to say when the person leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.context import Step
from bot.flows import (
    apply_card,
    employer,
    handoff,
    jobs,
    post_job,
    register_employer,
    report_wage,
    task_hours,
)
from bot.texts import text


@dataclass(frozen=True)
class FlowSpec:
    proceed: Callable[[Step, str | None], None]
    """Takes the message as the answer to the flow's question; `answer` is YES, NO or None."""
    question: Callable[[Step], str | None]
    """The question to repeat after an interruption."""
    accepts_no: Callable[[Step], bool]
    """Whether NEJ answers the current question (JA/NEJ questions); otherwise it ends the flow."""
    left: str
    """The reply when the person leaves the flow (NEJ, "glem det", "annuller")."""
    resume_prefix: str = "resume_prefix"
    yes_no: Callable[[Step], bool] = lambda step: False
    """Whether the question waiting is a JA/NEJ question: asked again after an interruption,
    it comes with its JA and NEJ buttons again (Telegram), as it did the first time."""
    explains: Callable[[Step], bool] = lambda step: False
    """Answers "why do you ask?" about the question waiting (True when it did), before the
    message is read as a rule question its words resemble."""


def _asking(*slots: str) -> Callable[[Step], bool]:
    return lambda step: step.state.get("asking") in slots


FLOWS: dict[str, FlowSpec] = {
    report_wage.FLOW: FlowSpec(report_wage.proceed, report_wage.resume_question,
                               _asking("confirm", "create_employment", "check_rate"),
                               "report_left",
                               yes_no=_asking("confirm", "create_employment", "check_rate")),
    apply_card.FLOW: FlowSpec(apply_card.proceed, apply_card.resume_question,
                              _asking("consent", "cpr", "helper", "municipality", "confirm"),
                              "apply_cancelled", "resume_apply_prefix",
                              yes_no=_asking("consent", "confirm"),
                              explains=apply_card.explain_why),
    register_employer.FLOW: FlowSpec(register_employer.proceed,
                                     register_employer.resume_question,
                                     lambda step: False, "register_left",
                                     "resume_register_prefix",
                                     explains=register_employer.explain_why),
    "check_card": FlowSpec(lambda step, _: employer.continue_check(step),
                           lambda step: text("ask_card_number"), lambda step: False,
                           "check_left"),
    handoff.FLOW: FlowSpec(handoff.proceed, lambda step: text("offer_human"),
                           lambda step: True, "offer_declined", yes_no=lambda step: True),
    post_job.FLOW: FlowSpec(post_job.proceed, post_job.resume_question, _asking("confirm"),
                            "jobs.post_dropped", "jobs.resume_post_prefix",
                            yes_no=_asking("confirm")),
    task_hours.FLOW: FlowSpec(task_hours.proceed, task_hours.resume_question,
                              _asking("confirm"), "jobs.hours_dropped",
                              yes_no=_asking("confirm")),
    jobs.DIGEST_FLOW: FlowSpec(jobs.digest_answer, jobs.digest_question, lambda step: False,
                               "digest_left", "jobs.resume_digest_prefix"),
}


def leave_flow(step: Step) -> None:
    """NEJ, "glem det", "annuller": the flow ends, with a word about what that means."""
    spec = FLOWS[step.flow or ""]
    label = f"flow:{step.flow}"
    step.end_flow()
    step.say(spec.left)
    step.decide(label)
