"""What the Indbakke and Ansøgninger pages share: their words, the message shown after an
action, and how a ledger refusal is answered on a form.

After an action the page is reached with ?besked=<key> (POST-redirect-GET, as the card
pages do): the key picks a fixed sentence from console.yml, so nothing typed or personal is
ever reflected from a URL, and nothing is added to the session cookie.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse

from api.console.texts import texts
from api.problems import status_for
from db.errors import DomainError, NotFound

FLASH_PARAM = "besked"


def words(section: str) -> dict[str, Any]:
    """One page area's words from console.yml (`inbox_pages` or `application_pages`)."""
    found: dict[str, Any] = texts()[section]
    return found


def flash_message(request: Request, section: str) -> str | None:
    """The sentence for ?besked=<key>; an unknown key shows nothing."""
    found = words(section)["flash"].get(request.query_params.get(FLASH_PARAM, ""))
    return str(found) if found else None


def redirect_with_flash(path: str, section: str, key: str) -> RedirectResponse:
    """303 to `path`, which then says what just happened."""
    if key not in words(section)["flash"]:
        raise KeyError(key)
    return RedirectResponse(f"{path}?{FLASH_PARAM}={key}", status_code=303)


def refusal_status(error: DomainError) -> int:
    """The status of a form the ledger refused (422 bad input, 409 conflict). A NotFound is
    re-raised: the record is gone or not the user's, and that is the plain 404 page."""
    if isinstance(error, NotFound):
        raise error
    return status_for(error)
