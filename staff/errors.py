"""The refusals of staff: typed, with stable codes (texts in db/data/errors.da.yml)."""

from __future__ import annotations

from db.errors import Conflict, InvalidInput, NotFound


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


class TextRequired(InvalidInput):
    code = "text_required"


class TextTooLong(InvalidInput):
    code = "text_too_long"


class CprInText(InvalidInput):
    """Staff text that would carry a CPR number to SMS, Telegram or the transcript."""

    code = "cpr_in_text"


class NotAllowedForRole(Conflict):
    """The user's role may not do this at all (checked before anything is looked up)."""

    code = "not_allowed_for_role"


class UsernameTaken(Conflict):
    code = "username_taken"


class LoginRefused(InvalidInput):
    """A console login that did not succeed; the subclass says whether to try again now."""

    code = "login_refused"


class LoginFailed(LoginRefused):
    code = "login_failed"


class LoginLocked(LoginRefused):
    code = "login_locked"

