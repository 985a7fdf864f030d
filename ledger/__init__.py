"""The ledger: the single source of truth for cards, employers, wage reports and the yearly cap.

Design overview
---------------
* Commands (`ledger.commands`) go in, results (`ledger.results`) come out, through the
  `Ledger` facade. Each command runs in its own unit of work and commits only when the
  service function says so; any refusal is a `DomainError` with a stable code and a
  plain-Danish message, and leaves the database unchanged.
* A wage report is immutable. Its life (awaiting the cap, reserved, posted, voided,
  expired, reversed) is a series of entries, at most one of each kind, and every entry
  moves the materialised card-year balance by exactly its own amounts.
* Writers for a card and year serialise on that balance row (`SELECT ... FOR UPDATE` on
  PostgreSQL, `BEGIN IMMEDIATE` on SQLite). The database backs the rules up with CHECK
  constraints (never above the cap) and triggers (history cannot be rewritten).
* Money is integer øre everywhere inside.
"""

from ledger.commands import (
    CreateEmployment,
    DeactivateCard,
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
from ledger.facade import Ledger
from ledger.results import (
    AWAITING_CAP_REASON,
    Balance,
    CapResult,
    CardResult,
    EmployerResult,
    EmploymentResult,
    WageReportResult,
)

__all__ = [
    "AWAITING_CAP_REASON",
    "Balance",
    "CapResult",
    "CardResult",
    "CreateEmployment",
    "DeactivateCard",
    "EmployerResult",
    "EmploymentResult",
    "IssueCard",
    "Ledger",
    "PostReport",
    "ReactivateCard",
    "RecordControl",
    "RegisterEmployer",
    "ReportWage",
    "ReverseReport",
    "SetCap",
    "TransferCard",
    "VerifyEmployer",
    "VoidReport",
    "WageReportResult",
]
