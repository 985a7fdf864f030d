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

Console accounts (`ledger.staff`):

    InvalidInput:  InvalidUsername invalid_username, InvalidDisplayName invalid_display_name,
                   InvalidRole invalid_role, MunicipalityRequired municipality_required,
                   InvalidPassword invalid_password,
                   LoginRefused login_refused
                   ├── LoginFailed login_failed   (never says whether the username exists)
                   └── LoginLocked login_locked
    NotFound:      StaffUserNotFound staff_user_not_found
    Conflict:      UsernameTaken username_taken

API keys (`ledger.api_keys`):

    InvalidInput:  InvalidApiKeyName invalid_api_key_name
    NotFound:      ApiKeyNotFound api_key_not_found

Caseworker console (`ledger.casework`):

    InvalidInput:  ApplicationNeedsCpr application_needs_cpr,
                   ApplicationNeedsMunicipality application_needs_municipality,
                   TextRequired text_required, ReasonRequired reason_required,
                   TextTooLong text_too_long, CprInText cpr_in_text,
                   InvalidContact invalid_contact, SameMunicipality same_municipality
    NotFound:      ApplicationNotFound application_not_found, ContactNotFound contact_not_found
                   (a record outside the user's municipality raises the same NotFound)
    Conflict:      ApplicationDecided application_decided,
                   NotAllowedForRole not_allowed_for_role

Small jobs (`ledger.tasks`):

    InvalidInput:  TaskTitleRequired task_title_required, UnknownPostcode unknown_postcode,
                   TaskWindowInvalid task_window_invalid, TaskHoursImplausible
                   task_hours_implausible, PayPerHourImplausible pay_per_hour_implausible,
                   PlacesOutOfRange places_out_of_range, ConsentRequired consent_required,
                   InvalidFrequency invalid_frequency
    NotFound:      TaskNotFound task_not_found, AssignmentNotFound assignment_not_found,
                   PhoneListEntryNotFound phone_list_entry_not_found,
                   NotOnPhoneList not_on_phone_list
                   (another employer's task or assignment raises the same NotFound)
    Conflict:      TaskFull task_full, TaskAlreadyTaken task_already_taken,
                   TaskNotOpen task_not_open, TaskOwnListOnly task_own_list_only,
                   AssignmentNotActive assignment_not_active

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


# Console accounts ---------------------------------------------------------------------


class InvalidUsername(InvalidInput):
    code = "invalid_username"


class InvalidDisplayName(InvalidInput):
    code = "invalid_display_name"


class InvalidRole(InvalidInput):
    code = "invalid_role"


class MunicipalityRequired(InvalidInput):
    code = "municipality_required"


class InvalidPassword(InvalidInput):
    code = "invalid_password"


class StaffUserNotFound(NotFound):
    code = "staff_user_not_found"


# API keys ---------------------------------------------------------------------------


class InvalidApiKeyName(InvalidInput):
    code = "invalid_api_key_name"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class UsernameTaken(Conflict):
    code = "username_taken"


class LoginRefused(InvalidInput):
    """A console login that did not succeed; the subclass says whether to try again now."""

    code = "login_refused"


class LoginFailed(LoginRefused):
    code = "login_failed"


class LoginLocked(LoginRefused):
    code = "login_locked"


# Caseworker console ---------------------------------------------------------------------


class ApplicationNeedsCpr(InvalidInput):
    code = "application_needs_cpr"


class ApplicationNeedsMunicipality(InvalidInput):
    code = "application_needs_municipality"


class TextRequired(InvalidInput):
    code = "text_required"


class ReasonRequired(InvalidInput):
    code = "reason_required"


class TextTooLong(InvalidInput):
    code = "text_too_long"


class CprInText(InvalidInput):
    """Staff text that would carry a CPR number to SMS, Telegram or the transcript."""

    code = "cpr_in_text"


class InvalidContact(InvalidInput):
    code = "invalid_contact"


class SameMunicipality(InvalidInput):
    code = "same_municipality"


class ApplicationNotFound(NotFound):
    code = "application_not_found"


class ContactNotFound(NotFound):
    code = "contact_not_found"


class ApplicationDecided(Conflict):
    code = "application_decided"


class NotAllowedForRole(Conflict):
    """The user's role may not do this at all (checked before anything is looked up)."""

    code = "not_allowed_for_role"


# Small jobs -------------------------------------------------------------------------------


class TaskTitleRequired(InvalidInput):
    code = "task_title_required"


class UnknownPostcode(InvalidInput):
    code = "unknown_postcode"


class TaskWindowInvalid(InvalidInput):
    code = "task_window_invalid"


class TaskHoursImplausible(InvalidInput):
    code = "task_hours_implausible"


class PayPerHourImplausible(InvalidInput):
    code = "pay_per_hour_implausible"


class PlacesOutOfRange(InvalidInput):
    code = "places_out_of_range"


class ConsentRequired(InvalidInput):
    """A helper signs a card holder up only with the holder's consent written down."""

    code = "consent_required"


class InvalidFrequency(InvalidInput):
    code = "invalid_frequency"


class TaskNotFound(NotFound):
    code = "task_not_found"


class AssignmentNotFound(NotFound):
    code = "assignment_not_found"


class PhoneListEntryNotFound(NotFound):
    code = "phone_list_entry_not_found"


class NotOnPhoneList(NotFound):
    code = "not_on_phone_list"


class TaskFull(Conflict):
    code = "task_full"


class TaskAlreadyTaken(Conflict):
    code = "task_already_taken"


class TaskNotOpen(Conflict):
    code = "task_not_open"


class TaskOwnListOnly(Conflict):
    code = "task_own_list_only"


class AssignmentNotActive(Conflict):
    code = "assignment_not_active"


def all_error_classes() -> list[type[LedgerError]]:
    """Every concrete error class, for the meta-tests and the API's status table."""
    found: list[type[LedgerError]] = []
    pending: list[type[LedgerError]] = [LedgerError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
