"""The wage reports read back and waiting for the employer's JA, kept in the conversation
state: what is waiting, what expired meanwhile, and cancelling them."""

from __future__ import annotations

from typing import Any

from bot.context import Step
from danish.wording import danish_date
from db.errors import DomainError
from ledger import VoidReport
from ledger.commands import ExpireIfDue

FIGURES = ("card_number", "amount", "hours", "paid_on", "work_from", "work_to")
PENDING = "pending"
"""The reports read back and waiting for JA: [{"id", and the figures they were made from}]."""


def pending(step: Step) -> list[dict[str, Any]]:
    return list(step.state.get(PENDING) or [])


def forget_settled(step: Step) -> None:
    """A report that expired (or was settled elsewhere) is no longer waiting: say so once."""
    still = []
    for entry in pending(step):
        report = step.ledger.report(int(entry["id"]))
        if report.expires_at is not None and report.expires_at <= step.turn.now \
                and report.status == "pending":  # the sweep has not come by yet: do it now
            report = step.turn.execute(ExpireIfDue(report_id=report.id), step.actor())
        if report.status in ("pending", "awaiting_cap"):
            still.append(entry)
        elif report.status == "expired":
            step.say("report_expired_note", card=report.card_number,
                     day=danish_date(report.paid_on))
    if len(still) != len(pending(step)):
        step.state[PENDING] = still
        if not still:
            for slot in FIGURES:
                step.slots.pop(slot, None)


def void_all(step: Step) -> None:
    waiting = pending(step)
    step.state[PENDING] = []
    step.end_flow()
    for entry in waiting:
        void(step, int(entry["id"]), reason="")
    step.say("voided" if len(waiting) <= 1 else "voided_many")


def void(step: Step, report_id: int, *, reason: str) -> None:
    """Cancels a reservation; one already expired or settled needs nothing more."""
    try:
        step.turn.execute(VoidReport(report_id=report_id, reason=reason),
                          step.actor())
    except DomainError:
        pass
