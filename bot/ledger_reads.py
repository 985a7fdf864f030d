"""What the dialogue reads from the ledger inside a conversation turn.

Each read runs through `Turn.within`, in the turn's own transaction, so it sees what the turn
has just written; the ledger's commands go through `Turn.execute` and its registry. The turn
itself knows no ledger: this is where the dialogue meets `ledger.reads`.

The sender's read at the start of a turn (`sender`: who writes, their card's year, the caps)
is kept for the turn: the card-year of that card and the caps are answered from it instead of
a SELECT of their own, as long as no command has run in the turn since (a command may have
changed them; `Turn.outcomes` counts every command run, refused or not).
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.turn import Turn
from ledger import reads
from ledger.reads import SenderFigures
from ledger.results import Balance, CapResult, CardResult, WageReportResult


@dataclass(frozen=True)
class Known:
    """The sender's read, and how many commands the turn had run when it was made."""

    figures: SenderFigures
    commands: int


class LedgerReads:
    """The ledger's reads of one turn."""

    def __init__(self, turn: Turn, known: Known | None = None) -> None:
        self._turn = turn
        self._known = known

    def sender(self) -> Known:
        """Who writes in this conversation, with their card's year and the caps (one SELECT)."""
        figures = self._turn.within(
            lambda uow: reads.sender(uow, self._turn.contact_kind, self._turn.address))
        return Known(figures, len(self._turn.outcomes))

    def _still_known(self) -> SenderFigures | None:
        known = self._known
        if known is None or len(self._turn.outcomes) != known.commands:
            return None
        return known.figures

    def balance(self, card_number: str, year: int | None = None) -> Balance:
        return self.card_year(card_number, year)[1]

    def card(self, number: str) -> CardResult:
        return self.card_year(number)[0]

    def card_year(self, number: str, year: int | None = None) -> tuple[CardResult, Balance]:
        """The card and a year's balance in one read (a holder's answer needs both)."""
        known = self._still_known()
        if (known is not None and known.card is not None and known.balance is not None
                and known.card.number == number and year in (None, known.year)):
            return known.card, known.balance
        year = year or self._turn.today.year
        return self._turn.remembered(("card_year", number, year),
                                     lambda uow: reads.card_year(uow, number, year))

    def report(self, report_id: int) -> WageReportResult:
        """The report; the one the turn's last command returned is that command's result (a
        read-back right after the report is made), as nothing has run since."""
        if self._turn.outcomes:
            last = self._turn.outcomes[-1][1]
            if isinstance(last, WageReportResult) and last.id == report_id:
                return last
        return self._turn.within(lambda uow: reads.report(uow, report_id))

    def caps(self) -> list[CapResult]:
        """The newest cap of every year, oldest year first."""
        known = self._still_known()
        if known is not None:
            return list(known.caps)
        return self._turn.within(reads.caps)

    def employer_registered(self, cvr: str) -> bool:
        return self._turn.within(lambda uow: reads.employer_registered(uow, cvr))
