"""Employments link an employer to a card for a period; reports must fall inside one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.commands import Actor
from db.tables import Card, Employer, Employment
from db.unit_of_work import UnitOfWork
from ledger import rules
from ledger.commands import CreateEmployment
from ledger.errors import EmploymentExists, InvalidDates, NoEmployment
from ledger.results import EmploymentResult
from ledger.service.lookups import card_by_number, employer_by_cvr


def create_employment(cmd: CreateEmployment, *, uow: UnitOfWork, actor: Actor) -> EmploymentResult:
    if cmd.end_date is not None and cmd.end_date < cmd.start_date:
        raise InvalidDates(reason="Ansættelsen kan ikke slutte før den begynder.")
    employer = employer_by_cvr(uow.session, cmd.employer_cvr)
    card = card_by_number(uow.session, cmd.card_number)
    duplicate = uow.session.scalar(select(Employment.id).where(
        Employment.employer_id == employer.id, Employment.card_id == card.id,
        Employment.start_date == cmd.start_date))
    if duplicate is not None:
        raise EmploymentExists()
    employment = Employment(
        employer_id=employer.id, card_id=card.id, start_date=cmd.start_date,
        end_date=cmd.end_date, weekly_hours_centi=int(cmd.weekly_hours * 100),
        contract_required=rules.contract_required(cmd.weekly_hours), created_at=uow.now,
    )
    uow.session.add(employment)
    uow.session.flush()
    uow.audit(actor, "employment.create", "employment", employment.id,
              employer=employer.cvr, card=card.number)
    result = employment_result(employment, employer, card)
    uow.commit()
    return result


def covering_employment(
    session: Session, employer_id: int, card: Card, work_from: dt.date, work_to: dt.date
) -> Employment:
    """The employment under which this work was done, or NoEmployment."""
    employment = session.scalar(
        select(Employment)
        .where(Employment.employer_id == employer_id, Employment.card_id == card.id,
               Employment.start_date <= work_from,
               or_(Employment.end_date.is_(None), Employment.end_date >= work_to))
        .order_by(Employment.start_date.desc())
        .limit(1)
    )
    if employment is None:
        raise NoEmployment(number=card.number)
    return employment


def employment_result(employment: Employment, employer: Employer, card: Card) -> EmploymentResult:
    return EmploymentResult(
        id=employment.id, employer_cvr=employer.cvr, card_number=card.number,
        start_date=employment.start_date, end_date=employment.end_date,
        weekly_hours=Decimal(employment.weekly_hours_centi) / 100,
        contract_required=employment.contract_required,
    )
