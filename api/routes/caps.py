"""The yearly cap table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.access import Caller
from api.deps import AdminActor, LedgerDep
from api.schemas import CapIn, CapOut, ore
from ledger import SetCap

router = APIRouter(prefix="/caps", tags=["caps"])
Year = Annotated[int, Path(ge=2019, le=2100)]


@router.get("")
def list_caps(ledger: LedgerDep, _: Caller) -> list[CapOut]:
    """The cap in force for every year that has one, with its source (any key may read it)."""
    return [CapOut.of(cap) for cap in ledger.caps()]


@router.put("/{year}")
def set_cap(year: Year, body: CapIn, ledger: LedgerDep, actor: AdminActor) -> CapOut:
    """Sets a year's cap; reports waiting for it are counted at once."""
    cmd = SetCap(year=year, amount_ore=ore(body.amount), source=body.source, is_demo=body.is_demo)
    return CapOut.of(ledger.set_cap(cmd, actor=actor))
