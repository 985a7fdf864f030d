"""Employers: register and verify."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AdminActor, LedgerDep
from api.schemas import EmployerIn
from ledger import EmployerResult, RegisterEmployer, VerifyEmployer

router = APIRouter(prefix="/employers", tags=["employers"])


@router.post("", status_code=status.HTTP_201_CREATED)
def register_employer(body: EmployerIn, ledger: LedgerDep, actor: AdminActor) -> EmployerResult:
    """Registers an employer, unverified until a caseworker has checked the CVR."""
    return ledger.register_employer(RegisterEmployer(**body.model_dump()), actor=actor)


@router.post("/{cvr}/verify")
def verify_employer(cvr: str, ledger: LedgerDep, actor: AdminActor) -> EmployerResult:
    """Marks the employer as verified, so its wage reports can count."""
    return ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=actor)
