"""The refusals of casework: typed, with stable codes (texts in db/data/errors.da.yml)."""

from __future__ import annotations

from db.errors import Conflict, InvalidInput, NotFound


class ApplicationNeedsCpr(InvalidInput):
    code = "application_needs_cpr"


class ApplicationNeedsMunicipality(InvalidInput):
    code = "application_needs_municipality"


class ReasonRequired(InvalidInput):
    code = "reason_required"


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
