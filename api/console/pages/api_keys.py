"""API-nøgler: scoped keys for employers' payroll systems and municipalities, for administrators.

    GET  /console/api-keys                      every key: scope, state, made, last used
    POST /console/api-keys                      name, kind (employer|municipality), cvr,
                                                municipality_code: the new key, shown once
    POST /console/api-keys/{key_id}/revoke      the key stops working at once

Everything goes through `ledger.api_keys` (the audit log names the administrator). A new key
is shown on the page that answers the form, once, never in a URL or a flash message; the
console's pages are already sent with `Cache-Control: no-store`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, require_roles
from api.console.pages.cards import error_status, municipality_choices
from api.console.pages.casework_helpers import flash_message, redirect_with_flash
from api.console.pages.overview import SECTION
from api.console.rendering import render
from api.deps import LedgerDep
from api.schemas import RowId
from api_keys import NewApiKey
from db.errors import DomainError
from staff import StaffPrincipal

router = APIRouter(prefix="/console/api-keys", include_in_schema=False)
Admin = Annotated[StaffPrincipal, Depends(require_roles("admin"))]
Field = Annotated[str, Form(max_length=200)]
KEYS_URL = "/console/api-keys"


def _page(request: Request, principal: StaffPrincipal, ledger: Backend, *,
          status_code: int = 200, error: str | None = None, made: NewApiKey | None = None,
          values: dict[str, str] | None = None) -> HTMLResponse:
    flash = None if error or made else flash_message(request, SECTION)
    return render(request, "console/api_keys.html", principal, status_code=status_code,
                  keys=ledger.api_keys.list(), municipalities=municipality_choices(),
                  error=error, flash=flash, made=made, values=values or {})


@router.get("", response_class=HTMLResponse)
def keys_page(request: Request, principal: Admin, ledger: LedgerDep) -> Response:
    return _page(request, principal, ledger)


@router.post("", response_class=HTMLResponse)
def create_key(request: Request, principal: Admin, _: CsrfChecked, ledger: LedgerDep,
               name: Field = "", kind: Field = "", cvr: Field = "",
               municipality_code: Field = "") -> Response:
    values = {"name": name, "kind": kind, "cvr": cvr, "municipality_code": municipality_code}
    try:
        made = ledger.api_keys.create(
            "municipality" if kind == "municipality" else "employer", name,
            employer_cvr=cvr, municipality_code=municipality_code, actor=principal.actor)
    except DomainError as refused:
        return _page(request, principal, ledger, status_code=error_status(refused),
                     error=refused.message, values=values)
    return _page(request, principal, ledger, made=made)


@router.post("/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(request: Request, principal: Admin, _: CsrfChecked, ledger: LedgerDep,
               key_id: RowId) -> Response:
    ledger.api_keys.revoke(key_id, actor=principal.actor)  # a missing id: the 404 page
    return redirect_with_flash(KEYS_URL, SECTION, "api_key_revoked")
