"""Brugere: console accounts, for administrators.

    GET  /console/users                          every account, active or not, last login
    POST /console/users                          username, display_name, role,
                                                 municipality_code, password, password_again
    POST /console/users/{user_id}/deactivate     the account stops working at once

Everything goes through `ledger.staff` (argon2 hashes, the username and password rules, the
audit log with the administrator as actor). The page only checks what the ledger cannot:
that the password was typed the same twice, and that nobody deactivates themselves (the last
administrator could lock everyone out). A refusal shows the form again without the
passwords and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, require_roles
from api.console.pages.cards import error_status, municipality_choices
from api.console.pages.casework_helpers import flash_message, redirect_with_flash
from api.console.pages.overview import SECTION, words
from api.console.rendering import render
from api.console.texts import texts
from api.deps import LedgerDep
from api.schemas import RowId
from db.errors import DomainError
from staff import StaffPrincipal

router = APIRouter(prefix="/console/users", include_in_schema=False)
Admin = Annotated[StaffPrincipal, Depends(require_roles("admin"))]
Field = Annotated[str, Form(max_length=200)]
Password = Annotated[str, Form(max_length=4096)]
USERS_URL = "/console/users"


def _page(request: Request, principal: StaffPrincipal, ledger: Backend, *,
          status_code: int = 200, error: str | None = None,
          values: dict[str, str] | None = None) -> HTMLResponse:
    flash = None if error else flash_message(request, SECTION)
    return render(request, "console/users.html", principal, status_code=status_code,
                  accounts=ledger.staff.list_users(), roles=texts()["roles"],
                  municipalities=municipality_choices(), error=error, flash=flash,
                  values=values or {}, min_length=ledger.config.staff.min_password_length)


@router.get("", response_class=HTMLResponse)
def users_page(request: Request, principal: Admin, ledger: LedgerDep) -> Response:
    return _page(request, principal, ledger)


@router.post("", response_class=HTMLResponse)
def add_user(
    request: Request, principal: Admin, _: CsrfChecked, ledger: LedgerDep,
    username: Field = "", display_name: Field = "", role: Field = "",
    municipality_code: Field = "", password: Password = "", password_again: Password = "",
) -> Response:
    values = {"username": username, "display_name": display_name, "role": role,
              "municipality_code": municipality_code}
    if password != password_again:
        return _page(request, principal, ledger, status_code=422, values=values,
                     error=words()["form_errors"]["passwords_differ"])
    # An administrator sees every municipality; a municipality given with the role is unused.
    code = None if role == "admin" else municipality_code
    try:
        ledger.staff.add_user(username, password, role, code, display_name,
                              actor=principal.actor)
    except DomainError as refused:
        return _page(request, principal, ledger, status_code=error_status(refused),
                     error=refused.message, values=values)
    return redirect_with_flash(USERS_URL, SECTION, "user_added")


@router.post("/{user_id}/deactivate", response_class=HTMLResponse)
def deactivate_user(request: Request, principal: Admin, _: CsrfChecked, ledger: LedgerDep,
                    user_id: RowId) -> Response:
    if user_id == principal.id:
        return _page(request, principal, ledger, status_code=409,
                     error=words()["form_errors"]["self_deactivation"])
    ledger.staff.deactivate_user(user_id, actor=principal.actor)
    return redirect_with_flash(USERS_URL, SECTION, "user_deactivated")
