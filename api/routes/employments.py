"""Employments between an employer and a card holder."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.access import Caller, card_in_scope, employer_in_scope
from api.deps import LedgerDep
from api.schemas import EmploymentIn, EmploymentOut
from ledger import CreateEmployment

router = APIRouter(prefix="/employments", tags=["employments"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_employment(body: EmploymentIn, ledger: LedgerDep, caller: Caller) -> EmploymentOut:
    """Creates an employment; the result says whether an ansættelsesbevis is required.

    An employer key for its own CVR; a municipality key for its own cards."""
    employer_in_scope(caller, body.employer_cvr)
    if caller.kind == "municipality":
        card_in_scope(ledger, caller, body.card_number)
    cmd = CreateEmployment(**body.model_dump())
    return EmploymentOut.of(ledger.create_employment(cmd, actor=caller.actor))
