"""The ledger's reads, in whatever unit of work the caller holds: the facade's own read
transaction, or a conversation turn's (where they see the turn's own writes)."""

from __future__ import annotations

from sqlalchemy import select

from db.tables import Employer
from db.unit_of_work import UnitOfWork
from ledger import queries
from ledger.results import Balance, CapResult, CardResult, WageReportResult
from ledger.service.cards import card_and_balance
from ledger.service.senders import SenderFigures, read_sender


def balance(uow: UnitOfWork, card_number: str, year: int | None = None) -> Balance:
    """A card-year's balance; this year's when no year is named."""
    return card_year(uow, card_number, year)[1]


def card(uow: UnitOfWork, number: str) -> CardResult:
    return card_year(uow, number)[0]


def card_year(
    uow: UnitOfWork, number: str, year: int | None = None,
) -> tuple[CardResult, Balance]:
    """The card and a year's balance (this year's when no year is named) in one SELECT: a card
    holder's rule answer and SALDO need both, on every turn."""
    return card_and_balance(uow.session, number, year or uow.today.year)


def sender(uow: UnitOfWork, kind: str, address: str) -> SenderFigures:
    """Who writes from a contact (`kind` "phone" or "telegram"), with their card's figures for
    this year and the caps, in one SELECT: every turn reads who writes, and a rule answer or
    SALDO then needs the card-year and the caps (`bot.ledger_reads` keeps them for the turn)."""
    return read_sender(uow.session, kind, address, uow.today.year)


def report(uow: UnitOfWork, report_id: int) -> WageReportResult:
    return queries.report(uow.session, report_id, uow.config.pending_ttl_seconds)


def caps(uow: UnitOfWork) -> list[CapResult]:
    """The newest cap of every year, oldest year first."""
    return queries.caps(uow.session)


def employer_registered(uow: UnitOfWork, cvr: str) -> bool:
    return uow.session.scalar(select(Employer.id).where(Employer.cvr == cvr)) is not None
