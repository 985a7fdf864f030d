"""Cards: issue, deactivate, reactivate, transfer, the balance per year, the employer check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from api.access import Caller, card_in_scope, require_kind
from api.deps import LedgerDep
from api.problems import AuthError
from api.schemas import BalanceOut, CardCheckOut, CardIn, CardOut, ReasonIn, TransferIn
from ledger import DeactivateCard, IssueCard, ReactivateCard, TransferCard

router = APIRouter(prefix="/cards", tags=["cards"])
CardNumber = Annotated[str, Path(pattern=r"^\d{5}$")]
YearQuery = Annotated[int | None, Query(ge=2019, le=2100)]


@router.post("", status_code=status.HTTP_201_CREATED)
def issue_card(body: CardIn, ledger: LedgerDep, caller: Caller) -> CardOut:
    """Grants a card. The CPR number is stored encrypted and never returned.

    A municipality key issues cards of its own municipality only (403 otherwise)."""
    require_kind(caller, "municipality")
    if caller.kind == "municipality" and body.municipality_code != caller.municipality_code:
        raise AuthError("forbidden")
    return CardOut.of(ledger.issue_card(IssueCard(**body.model_dump()), actor=caller.actor))


@router.get("/{number}")
def get_card(number: CardNumber, ledger: LedgerDep, caller: Caller) -> CardOut:
    """Status, validity and control dates of a card."""
    require_kind(caller, "municipality")
    card_in_scope(ledger, caller, number)
    return CardOut.of(ledger.card(number))


@router.post("/{number}/deactivate")
def deactivate_card(number: CardNumber, body: ReasonIn, ledger: LedgerDep,
                    caller: Caller) -> CardOut:
    """Deactivates the card from today (never backdated)."""
    require_kind(caller, "municipality")
    card_in_scope(ledger, caller, number)
    cmd = DeactivateCard(number=number, reason=body.reason)
    return CardOut.of(ledger.deactivate_card(cmd, actor=caller.actor))


@router.post("/{number}/reactivate")
def reactivate_card(number: CardNumber, body: ReasonIn, ledger: LedgerDep,
                    caller: Caller) -> CardOut:
    """Reactivates a deactivated card from today."""
    require_kind(caller, "municipality")
    card_in_scope(ledger, caller, number)
    cmd = ReactivateCard(number=number, reason=body.reason)
    return CardOut.of(ledger.reactivate_card(cmd, actor=caller.actor))


@router.post("/{number}/transfer")
def transfer_card(number: CardNumber, body: TransferIn, ledger: LedgerDep,
                  caller: Caller) -> CardOut:
    """Moves the card to a new handlekommune, keeping its history."""
    require_kind(caller, "municipality")
    card_in_scope(ledger, caller, number)
    cmd = TransferCard(number=number, municipality_code=body.municipality_code)
    return CardOut.of(ledger.transfer_card(cmd, actor=caller.actor))


@router.get("/{number}/balance")
def get_balance(number: CardNumber, ledger: LedgerDep, caller: Caller,
                year: YearQuery = None) -> BalanceOut:
    """Earned (posted), reserved (pending) and remaining under the year's cap.

    Not for employer keys: they see `GET /cards/{number}/check`."""
    require_kind(caller, "municipality")
    card_in_scope(ledger, caller, number)
    return BalanceOut.of(ledger.balance(number, year))


@router.get("/{number}/check")
def check_card(number: CardNumber, ledger: LedgerDep, caller: Caller,
               year: YearQuery = None) -> CardCheckOut:
    """The employer card check: is the card active, and how much room is left this year.

    An employer key asks about its own employees only (any other card is 404)."""
    card_in_scope(ledger, caller, number)
    card = ledger.card(number)
    balance = ledger.balance(number, year)
    active = card.status == "active"
    return CardCheckOut(card_number=card.number, active=active, year=balance.year,
                        remaining=balance.remaining_ore if active else None,
                        cap_is_demo=balance.cap_is_demo)
