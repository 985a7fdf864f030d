"""The refusals of smalljobs: typed, with stable codes (texts in db/data/errors.da.yml)."""

from __future__ import annotations

from db.errors import Conflict, InvalidInput, NotFound


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
