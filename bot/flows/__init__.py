"""One module per intent family; each step takes a `Step` and appends replies to it."""

from bot.flows import (
    apply_card,
    balance,
    employer,
    faq,
    handoff,
    link,
    register_employer,
    report_wage,
)

__all__ = ["apply_card", "balance", "employer", "faq", "handoff", "link", "register_employer",
           "report_wage"]
