"""Dependencies every console route uses.

    principal: CurrentStaff                      signed-in user, or 303 to the login page (GET)
                                                 / 401 (anything else, and fetches from JS)
    principal: Annotated[StaffPrincipal, Depends(require_roles("admin"))]   403 for others
    principal: OfficeStaff                       any role but "helper" (403 for a helper)
    _: CsrfChecked                               on EVERY POST route (the tests check it)
    not_found()                                  404 for a record outside the user's scope

A GET counts as a fetch (401, not a redirect) when it sends `X-Requested-With` or accepts
only JSON; console.js sends `X-Requested-With: console`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from api.bootstrap import Backend
from api.console.errors import ConsoleError, not_found
from api.console.session import CSRF_KEY, forget, session_user
from staff import Role, StaffPrincipal

__all__ = ["ConsoleError", "CsrfChecked", "CurrentStaff", "OFFICE_ROLES", "OfficeStaff",
           "current_staff", "csrf_protect", "login_url", "not_found", "require_roles",
           "staff_from_session"]

LOGIN_PATH = "/console/login"
CSRF_FIELD, CSRF_HEADER = "csrf_token", "X-CSRF-Token"


def staff_from_session(request: Request) -> StaffPrincipal | None:
    """The signed-in user, or None; a stale session (logged out, deactivated) is emptied."""
    found = session_user(request)
    if found is None:
        return None
    ledger: Backend = request.app.state.ledger
    principal = ledger.staff.principal(*found)
    if principal is None:
        forget(request)
    return principal


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{LOGIN_PATH}?next={quote(target, safe='')}"


def _is_fetch(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "x-requested-with" in request.headers or (
        "application/json" in accept and "text/html" not in accept)


def current_staff(request: Request) -> StaffPrincipal:
    principal = staff_from_session(request)
    if principal is not None:
        return principal
    if request.method in {"GET", "HEAD"} and not _is_fetch(request):
        raise ConsoleError(303, "login_required", headers={"Location": login_url(request)})
    raise ConsoleError(401, "login_required")


CurrentStaff = Annotated[StaffPrincipal, Depends(current_staff)]


def require_roles(*roles: Role) -> Callable[[StaffPrincipal], StaffPrincipal]:
    """A dependency giving the signed-in user if their role is one of `roles`, else 403."""
    allowed = frozenset(roles)

    def check(principal: CurrentStaff) -> StaffPrincipal:
        if principal.role not in allowed:
            raise ConsoleError(403, "forbidden")
        return principal
    return check


async def csrf_protect(request: Request) -> None:
    """Compares the form field `csrf_token` (or the X-CSRF-Token header) with the session's."""
    expected = request.session.get(CSRF_KEY)
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not (isinstance(expected, str) and given
            and secrets.compare_digest(given.encode(), expected.encode())):
        raise ConsoleError(403, "csrf_failed")


CsrfChecked = Annotated[None, Depends(csrf_protect)]

OFFICE_ROLES: tuple[Role, ...] = ("caseworker", "employer_consultant", "admin")
"""The municipality's own staff: everyone but a helper (værested or herberg staff, who use
only the Opgaver and Telefonliste pages and see no one outside their own phone list)."""
OfficeStaff = Annotated[StaffPrincipal, Depends(require_roles(*OFFICE_ROLES))]
