"""Employments between an employer and a card holder."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AdminActor, LedgerDep
from api.schemas import EmploymentIn, EmploymentOut
from ledger import CreateEmployment

router = APIRouter(prefix="/employments", tags=["employments"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_employment(body: EmploymentIn, ledger: LedgerDep, actor: AdminActor) -> EmploymentOut:
    """Creates an employment; the result says whether an ansættelsesbevis is required."""
    return EmploymentOut.of(ledger.create_employment(CreateEmployment(**body.model_dump()), actor=actor))
