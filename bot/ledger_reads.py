"""What the dialogue reads from the ledger inside a conversation turn.

Each read runs through `Turn.within`, in the turn's own transaction, so it sees what the turn
has just written; the ledger's commands go through `Turn.execute` and its registry. The turn
itself knows no ledger: this is where the dialogue meets `ledger.reads`.
"""

from __future__ import annotations

from conversations.turn import Turn
from ledger import reads
from ledger.results import Balance, CapResult, CardResult, WageReportResult


class LedgerReads:
    """The ledger's reads of one turn."""

    def __init__(self, turn: Turn) -> None:
        self._turn = turn

    def balance(self, card_number: str, year: int | None = None) -> Balance:
        return self._turn.within(lambda uow: reads.balance(uow, card_number, year))

    def card(self, number: str) -> CardResult:
        return self._turn.within(lambda uow: reads.card(uow, number))

    def card_year(self, number: str, year: int | None = None) -> tuple[CardResult, Balance]:
        """The card and a year's balance in one read (a holder's answer needs both)."""
        return self._turn.within(lambda uow: reads.card_year(uow, number, year))

    def report(self, report_id: int) -> WageReportResult:
        return self._turn.within(lambda uow: reads.report(uow, report_id))

    def caps(self) -> list[CapResult]:
        """The newest cap of every year, oldest year first."""
        return self._turn.within(reads.caps)

    def employer_registered(self, cvr: str) -> bool:
        return self._turn.within(lambda uow: reads.employer_registered(uow, cvr))
