"""Employers: register and verify."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.access import Caller, require_kind
from api.deps import LedgerDep
from api.schemas import EmployerIn
from ledger import EmployerResult, RegisterEmployer, VerifyEmployer

router = APIRouter(prefix="/employers", tags=["employers"])


@router.post("", status_code=status.HTTP_201_CREATED)
def register_employer(body: EmployerIn, ledger: LedgerDep, caller: Caller) -> EmployerResult:
    """Registers an employer, unverified until a caseworker has checked the CVR.

    Employers belong to no municipality: a municipality key may register any (as its
    caseworkers may in the console); an employer key may not."""
    require_kind(caller, "municipality")
    return ledger.register_employer(RegisterEmployer(**body.model_dump()), actor=caller.actor)


@router.post("/{cvr}/verify")
def verify_employer(cvr: str, ledger: LedgerDep, caller: Caller) -> EmployerResult:
    """Marks the employer as verified, so its wage reports can count (not an employer key)."""
    require_kind(caller, "municipality")
    return ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=caller.actor)
