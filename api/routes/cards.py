"""Cards: issue, deactivate, reactivate, transfer, and the balance per year."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from api.deps import AdminActor, LedgerDep
from api.schemas import BalanceOut, CardIn, CardOut, ReasonIn, TransferIn
from ledger import DeactivateCard, IssueCard, ReactivateCard, TransferCard

router = APIRouter(prefix="/cards", tags=["cards"])
CardNumber = Annotated[str, Path(pattern=r"^\d{5}$")]


@router.post("", status_code=status.HTTP_201_CREATED)
def issue_card(body: CardIn, ledger: LedgerDep, actor: AdminActor) -> CardOut:
    """Grants a card. The CPR number is stored encrypted and never returned."""
    return CardOut.of(ledger.issue_card(IssueCard(**body.model_dump()), actor=actor))


@router.get("/{number}")
def get_card(number: CardNumber, ledger: LedgerDep, _: AdminActor) -> CardOut:
    """Status, validity and control dates of a card."""
    return CardOut.of(ledger.card(number))


@router.post("/{number}/deactivate")
def deactivate_card(number: CardNumber, body: ReasonIn, ledger: LedgerDep, actor: AdminActor) -> CardOut:
    """Deactivates the card from today (never backdated)."""
    return CardOut.of(ledger.deactivate_card(DeactivateCard(number=number, reason=body.reason), actor=actor))


@router.post("/{number}/reactivate")
def reactivate_card(number: CardNumber, body: ReasonIn, ledger: LedgerDep, actor: AdminActor) -> CardOut:
    """Reactivates a deactivated card from today."""
    return CardOut.of(ledger.reactivate_card(ReactivateCard(number=number, reason=body.reason), actor=actor))


@router.post("/{number}/transfer")
def transfer_card(number: CardNumber, body: TransferIn, ledger: LedgerDep, actor: AdminActor) -> CardOut:
    """Moves the card to a new handlekommune, keeping its history."""
    cmd = TransferCard(number=number, municipality_code=body.municipality_code)
    return CardOut.of(ledger.transfer_card(cmd, actor=actor))


@router.get("/{number}/balance")
def get_balance(
    number: CardNumber,
    ledger: LedgerDep,
    _: AdminActor,
    year: Annotated[int | None, Query(ge=2019, le=2100)] = None,
) -> BalanceOut:
    """Earned (posted), reserved (pending) and remaining under the year's cap."""
    return BalanceOut.of(ledger.balance(number, year))
