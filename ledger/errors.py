"""Every refusal the ledger can give, as one tree of typed errors with stable codes.

    LedgerError
    ├── InvalidInput            invalid_input
    │   ├── InvalidCpr          invalid_cpr
    │   ├── InvalidCvr          invalid_cvr
    │   ├── InvalidPhone        invalid_phone
    │   ├── AmountOutOfBounds   amount_out_of_bounds
    │   ├── HoursImplausible    hours_implausible
    │   ├── InvalidDates        invalid_dates
    │   ├── BackdatedDecision   backdated_decision
    │   └── InvalidCap          invalid_cap
    ├── NotFound
    │   ├── MunicipalityNotFound municipality_not_found
    │   ├── CardNotFound        card_not_found
    │   ├── EmployerNotFound    employer_not_found
    │   └── ReportNotFound      report_not_found
    └── Conflict
        ├── CitizenHasCard      citizen_has_card
        ├── CardNumberTaken     card_number_taken
        ├── EmployerExists      employer_exists
        ├── ContactInUse        contact_in_use
        ├── CardNotActive       card_not_active
        ├── CardNotValidOnDate  card_not_valid_on_date
        ├── CardStatusUnchanged card_status_unchanged
        ├── EmployerNotVerified employer_not_verified
        ├── NoEmployment        no_employment
        ├── EmploymentExists    employment_exists
        ├── IdempotencyConflict idempotency_conflict
        ├── ReportNotPending    report_not_pending
        ├── ReportExpired       report_expired
        ├── ReportNotPosted     report_not_posted
        ├── ReportAlreadyReversed report_already_reversed
        └── CapBelowUsage       cap_below_usage

The Danish message for each code lives in `ledger/data/errors.da.yml`; callers show it as it is.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, ClassVar

import yaml


@cache
def _messages() -> dict[str, str]:
    text = resources.files("ledger").joinpath("data/errors.da.yml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


def danish_message(code: str) -> str:
    """The plain-Danish message template for an error code."""
    return _messages()[code]


class LedgerError(Exception):
    """A refusal: nothing was changed, and `message` says why in plain Danish."""

    code: ClassVar[str] = "ledger_error"

    def __init__(self, detail: str = "", **params: Any) -> None:
        self.detail = detail
        self.params = params
        super().__init__(f"{self.code}: {detail}" if detail else self.code)

    @property
    def message(self) -> str:
        return danish_message(self.code).format(**self.params).strip()


class InvalidInput(LedgerError):
    code = "invalid_input"


class InvalidCpr(InvalidInput):
    code = "invalid_cpr"


class InvalidCvr(InvalidInput):
    code = "invalid_cvr"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"


class AmountOutOfBounds(InvalidInput):
    code = "amount_out_of_bounds"


class HoursImplausible(InvalidInput):
    code = "hours_implausible"


class InvalidDates(InvalidInput):
    code = "invalid_dates"


class BackdatedDecision(InvalidInput):
    code = "backdated_decision"


class InvalidCap(InvalidInput):
    code = "invalid_cap"


class NotFound(LedgerError):
    code = "not_found"


class MunicipalityNotFound(NotFound):
    code = "municipality_not_found"


class CardNotFound(NotFound):
    code = "card_not_found"


class EmployerNotFound(NotFound):
    code = "employer_not_found"


class ReportNotFound(NotFound):
    code = "report_not_found"


class Conflict(LedgerError):
    code = "conflict"


class CitizenHasCard(Conflict):
    code = "citizen_has_card"


class CardNumberTaken(Conflict):
    code = "card_number_taken"


class EmployerExists(Conflict):
    code = "employer_exists"


class ContactInUse(Conflict):
    code = "contact_in_use"


class CardNotActive(Conflict):
    code = "card_not_active"


class CardNotValidOnDate(Conflict):
    code = "card_not_valid_on_date"


class CardStatusUnchanged(Conflict):
    code = "card_status_unchanged"


class EmployerNotVerified(Conflict):
    code = "employer_not_verified"


class NoEmployment(Conflict):
    code = "no_employment"


class EmploymentExists(Conflict):
    code = "employment_exists"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class ReportNotPending(Conflict):
    code = "report_not_pending"


class ReportExpired(Conflict):
    code = "report_expired"


class ReportNotPosted(Conflict):
    code = "report_not_posted"


class ReportAlreadyReversed(Conflict):
    code = "report_already_reversed"


class CapBelowUsage(Conflict):
    code = "cap_below_usage"


def all_error_classes() -> list[type[LedgerError]]:
    """Every concrete error class, for the meta-tests and the API's status table."""
    found: list[type[LedgerError]] = []
    pending: list[type[LedgerError]] = [LedgerError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
