"""Whose is it: the questions a scoped key's requests need answered, one lookup each.

A record outside a key's scope is answered by the caller exactly as a missing one (404), so
these only say who a card or report belongs to; they never refuse by themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from db.base import table_of
from db.tables import Card, Employer, Employment, WageReport

_CARDS = table_of(Card)
_EMPLOYERS = table_of(Employer)
_EMPLOYMENTS = table_of(Employment)
_REPORTS = table_of(WageReport)


@dataclass(frozen=True)
class ReportOwner:
    employer_cvr: str
    municipality_code: str
    """The card's handlekommune now (it follows a transferred card)."""


_CARD_HOMES = (select(_CARDS.c.number, _CARDS.c.municipality_code)
               .where(_CARDS.c.number.in_(bindparam("numbers", expanding=True))))
_REPORT_OWNER = (select(_EMPLOYERS.c.cvr, _CARDS.c.municipality_code)
                 .select_from(_REPORTS.join(_CARDS, _CARDS.c.id == _REPORTS.c.card_id)
                              .join(_EMPLOYERS, _EMPLOYERS.c.id == _REPORTS.c.employer_id))
                 .where(_REPORTS.c.id == bindparam("report_id")))
_EMPLOYS = select(exists().where(
    _EMPLOYMENTS.c.employer_id == _EMPLOYERS.c.id, _EMPLOYMENTS.c.card_id == _CARDS.c.id,
    _EMPLOYERS.c.cvr == bindparam("cvr"), _CARDS.c.number == bindparam("number")))


def card_homes(session: Session, numbers: Iterable[str]) -> dict[str, str]:
    """Card number → municipality code, for the numbers that exist."""
    wanted = sorted({number.strip() for number in numbers})
    if not wanted:
        return {}
    rows = session.connection().execute(_CARD_HOMES, {"numbers": wanted})
    return {str(number): str(code) for number, code in rows}


def report_owner(session: Session, report_id: int) -> ReportOwner | None:
    row = session.connection().execute(_REPORT_OWNER, {"report_id": report_id}).first()
    return ReportOwner(str(row[0]), str(row[1])) if row is not None else None


def employs(session: Session, cvr: str, number: str) -> bool:
    """Whether the employer has (or had) an employment with the card: its own employee."""
    return bool(session.connection().execute(_EMPLOYS, {"cvr": cvr,
                                                        "number": number.strip()}).scalar())
