"""The ledger's commands and the functions that handle them, in one registry."""

from __future__ import annotations

from db.handlers import CommandHandlers
from ledger.commands import (
    CreateEmployment,
    DeactivateCard,
    ExpireIfDue,
    IssueCard,
    PostReport,
    ReactivateCard,
    RecordControl,
    RegisterEmployer,
    ReportWage,
    ReverseReport,
    SetCap,
    TransferCard,
    VerifyEmployer,
    VoidReport,
)
from ledger.service import caps, cards, employers, employments, reports


def ledger_handlers(into: CommandHandlers | None = None) -> CommandHandlers:
    """Registers every ledger command (in `into`, or a new registry) and returns the registry."""
    handlers = into if into is not None else CommandHandlers()
    handlers.add(SetCap, caps.set_cap)
    handlers.add(RegisterEmployer, employers.register_employer)
    handlers.add(VerifyEmployer, employers.verify_employer)
    handlers.add(IssueCard, cards.issue_card)
    handlers.add(DeactivateCard, cards.deactivate_card)
    handlers.add(ReactivateCard, cards.reactivate_card)
    handlers.add(TransferCard, cards.transfer_card)
    handlers.add(RecordControl, cards.record_control)
    handlers.add(CreateEmployment, employments.create_employment)
    handlers.add(ReportWage, reports.report_wage)
    handlers.add(PostReport, reports.post_report)
    handlers.add(ExpireIfDue, reports.expire_if_due)
    handlers.add(VoidReport, reports.void_report)
    handlers.add(ReverseReport, reports.reverse_report)
    return handlers
