"""Who may call what under /api/v1: the admin key, and scoped employer and municipality keys.

Policy (README, "API keys"): an employer key reports and reads for its own CVR only, and sees
a card only as the employer card check shows it, and only for its own employees; a
municipality key acts on its own cards (and their reports and conversations). A record
outside a key's scope gets the same 404 as a missing one; an operation a kind of key may
never do is 403 `forbidden`. The key's id goes into the access log line of every request
and, as the actor, into the audit log with every change.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.bootstrap import Backend
from api.problems import AuthError
from api_keys import ApiPrincipal
from api_keys.principal import ADMIN
from ledger.errors import (
    CardNotFound,
    EmployerNotFound,
    InvalidCvr,
    MunicipalityNotFound,
    ReportNotFound,
)
from ledger.service.lookups import normalise_cvr

_bearer = HTTPBearer(auto_error=False, description=(
    "The admin key (ADMIN_API_KEY), or a scoped key made with `frikort keys create`."))


def api_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiPrincipal:
    """The caller, or 401. The admin key is compared in constant time; a scoped key is found
    by its prefix and checked against its stored hash."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("unauthorized")
    given = credentials.credentials
    expected: str = request.app.state.settings.ADMIN_API_KEY.get_secret_value()
    if secrets.compare_digest(given.encode(), expected.encode()):
        request.state.api_key = "admin"
        return ADMIN
    ledger: Backend = request.app.state.ledger
    principal = ledger.api_keys.authenticate(given)
    if principal is None:
        raise AuthError("unauthorized")
    request.state.api_key = principal.key_id
    return principal


Caller = Annotated[ApiPrincipal, Depends(api_principal)]


def require_kind(caller: ApiPrincipal, *kinds: str) -> None:
    """403 unless the caller is the admin or one of these kinds of key."""
    if not caller.is_admin and caller.kind not in kinds:
        raise AuthError("forbidden")


def card_in_scope(ledger: Backend, caller: ApiPrincipal, number: str) -> None:
    """A municipality's own card, or an employer's own employee; else as if it did not exist."""
    if caller.is_admin:
        return
    if caller.kind == "municipality":
        if ledger.api_keys.card_homes([number]).get(number.strip()) == caller.municipality_code:
            return
    elif caller.employer_cvr and ledger.api_keys.employs(caller.employer_cvr, number):
        return
    raise CardNotFound(number=number)


def municipality_in_scope(caller: ApiPrincipal, code: str | None) -> None:
    if caller.kind == "municipality" and code != caller.municipality_code:
        raise MunicipalityNotFound(code=code or "")


def employer_in_scope(caller: ApiPrincipal, cvr: str) -> None:
    """An employer key speaks for its own CVR only (spelled any valid way)."""
    if caller.kind != "employer":
        return
    try:
        same = normalise_cvr(cvr) == caller.employer_cvr
    except InvalidCvr:  # an invalid CVR is not this employer's either
        same = False
    if not same:
        raise EmployerNotFound(cvr=cvr)


def report_in_scope(ledger: Backend, caller: ApiPrincipal, report_id: int) -> None:
    if caller.is_admin:
        return
    owner = ledger.api_keys.report_owner(report_id)
    if owner is not None and (
            (caller.kind == "employer" and owner.employer_cvr == caller.employer_cvr)
            or (caller.kind == "municipality"
                and owner.municipality_code == caller.municipality_code)):
        return
    raise ReportNotFound(id=report_id)
