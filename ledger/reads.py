"""The ledger's reads, in whatever unit of work the caller holds: the facade's own read
transaction, or a conversation turn's (where they see the turn's own writes)."""

from __future__ import annotations

from sqlalchemy import select

from db.tables import Employer
from db.unit_of_work import UnitOfWork
from ledger import queries
from ledger.results import Balance, CapResult, CardResult, WageReportResult
from ledger.service.cards import card_result_by_number


def balance(uow: UnitOfWork, card_number: str, year: int | None = None) -> Balance:
    """A card-year's balance; this year's when no year is named."""
    return queries.balance(uow.session, card_number, year or uow.today.year)


def card(uow: UnitOfWork, number: str) -> CardResult:
    return card_result_by_number(uow.session, number)


def report(uow: UnitOfWork, report_id: int) -> WageReportResult:
    return queries.report(uow.session, report_id, uow.config.pending_ttl_seconds)


def caps(uow: UnitOfWork) -> list[CapResult]:
    """The newest cap of every year, oldest year first."""
    return queries.caps(uow.session)


def employer_registered(uow: UnitOfWork, cvr: str) -> bool:
    return uow.session.scalar(select(Employer.id).where(Employer.cvr == cvr)) is not None
