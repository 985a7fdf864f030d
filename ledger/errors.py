"""The refusals of ledger: typed, with stable codes (texts in db/data/errors.da.yml)."""

from __future__ import annotations

from db.errors import Conflict, InvalidInput, NotFound


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


class MunicipalityNotFound(NotFound):
    code = "municipality_not_found"


class CardNotFound(NotFound):
    code = "card_not_found"


class EmployerNotFound(NotFound):
    code = "employer_not_found"


class ReportNotFound(NotFound):
    code = "report_not_found"


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
