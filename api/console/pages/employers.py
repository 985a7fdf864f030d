"""Arbejdsgivere: the list (not yet verified first), one employer, and verifying it.

    GET  /console/employers?q=...         by name, contact person or the first digits of a CVR
    GET  /console/employers/{cvr}         contact person, phones, employments, reports
    POST /console/employers/{cvr}/verify  cvr_tjekket=ja (the checkbox), note (optional)

Employers belong to no municipality, so every console role sees and may verify them (the
service's rule); the employments and reports shown are only those of card holders in the
user's own municipality. A CVR search is no secret (CVR is a public register), so it is a GET.
Verifying needs the ticked box "Jeg har tjekket CVR-nummeret i CVR-registret": the point of
verifying is that a person looked the company up, and the audit log names that person.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.bootstrap import Backend
from api.console.deps import CsrfChecked, require_roles
from api.console.pages.cards import error_status, flash_message, redirect_with_flash, words
from api.console.rendering import render
from api.deps import LedgerDep
from db.errors import DomainError
from ledger.errors import EmployerNotFound
from staff import StaffPrincipal
from staff.access import CASE_ROLES
from staff.redaction import redact_cpr

router = APIRouter(prefix="/console/employers", include_in_schema=False)
EmployerStaff = Annotated[StaffPrincipal, Depends(
    require_roles("caseworker", "employer_consultant", "admin"))]


def employer_url(cvr: str) -> str:
    return f"/console/employers/{cvr}"


def employer_page(
    request: Request, principal: StaffPrincipal, ledger: Backend, cvr: str, *,
    status_code: int = 200, error: str | None = None, note: str = "",
) -> HTMLResponse:
    employer = ledger.casework.employer(principal, cvr)
    return render(request, "console/employer.html", principal, status_code=status_code,
                  employer=employer, words=words(), error=error, note=redact_cpr(note),
                  flash=None if error else flash_message(request),
                  links_to_cards=principal.role in CASE_ROLES)


@router.get("", response_class=HTMLResponse)
def employers_page(request: Request, principal: EmployerStaff, ledger: LedgerDep,
                   q: Annotated[str, Query(max_length=100)] = "") -> Response:
    wanted = " ".join(q.split())
    employers = ledger.casework.employers(principal, wanted or None)
    return render(request, "console/employers.html", principal, employers=employers,
                  query=redact_cpr(wanted), words=words(), flash=flash_message(request),
                  unverified=sum(not e.verified for e in employers))


@router.get("/{cvr}", response_class=HTMLResponse)
def employer(request: Request, principal: EmployerStaff, ledger: LedgerDep,
             cvr: str) -> Response:
    return employer_page(request, principal, ledger, cvr)


@router.post("/{cvr}/verify", response_class=HTMLResponse)
def verify(
    request: Request, principal: EmployerStaff, _: CsrfChecked, ledger: LedgerDep, cvr: str,
    cvr_tjekket: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    if cvr_tjekket != "ja":
        return employer_page(request, principal, ledger, cvr, status_code=422, note=note,
                             error=words()["form_errors"]["verify_unchecked"])
    try:
        result = ledger.casework.verify_employer(principal, cvr, note)
    except DomainError as refused:
        if isinstance(refused, EmployerNotFound):
            raise
        return employer_page(request, principal, ledger, cvr, note=note,
                             status_code=error_status(refused), error=refused.message)
    return redirect_with_flash(employer_url(result.cvr), "verified")
