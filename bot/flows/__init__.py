"""One module per intent family; each step takes a `Step` and appends replies to it."""

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

__all__ = ["apply_card", "balance", "employer", "faq", "handoff", "jobs", "link", "post_job",
           "register_employer", "report_wage", "task_hours", "task_replies"]
