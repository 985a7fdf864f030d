"""Reading cards in the console: search, one card in full, and the cards due for control.

Control (§ 3 stk. 1, LOV 616/2024): the municipality must check »mindst en gang hvert andet
kalenderår« that a card holder still meets the conditions, and need not in the year the card
was issued. We model it as `ledger.rules.next_control_due`: counting from the calendar year of
the latest control (or of issue, when there has been none), the next control must fall at the
latest in the second calendar year after it, i.e. by 31 December of that year. A card is
*due* from 1 January of that year (it must be controlled this calendar year) and *overdue*
after the 31 December deadline. Only active cards are due: a deactivated card has no
conditions left to check (reactivating it is a decision of its own).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from casework.records import (
    CardDetail,
    CardEventItem,
    CardItem,
    ContactItem,
    EmploymentItem,
    YearBalance,
)
from db.conversation_tables import LinkCode
from db.reference_data import municipality_names
from db.tables import (
    Card,
    CardBalance,
    CardEvent,
    Citizen,
    CitizenContact,
    Employer,
    Employment,
    WageReport,
)
from db.unit_of_work import UnitOfWork
from db.vault import mask_cpr, normalise_cpr
from ledger import rules
from ledger.errors import CardNotFound
from ledger.queries import wage_report_rows
from ledger.results import Balance
from ledger.service.balances import read_balance
from staff.access import in_scope, require_role
from staff.principal import StaffPrincipal
from staff.redaction import mask_address

MAX_RESULTS = 50
_DIGITS = re.compile(r"[0-9]{1,5}")
_CPR_LIKE = re.compile(r"[0-9]{6}[ -]?[0-9]{4}")


def control_state(
    issued_on: dt.date, last_control_on: dt.date | None, status: str, on: dt.date
) -> tuple[dt.date, bool, bool]:
    """(deadline, due, overdue) on the day `on`; see the module docstring for the rule."""
    deadline = rules.next_control_due(issued_on, last_control_on)
    active = status == "active"
    return deadline, active and deadline.year <= on.year, active and on > deadline


def due_cutoff(on: dt.date) -> dt.date:
    """Cards whose latest control (or issue) is on or before this day are due in `on`'s year:
    the SQL form of `control_state`, for listing."""
    return dt.date(on.year - rules.CONTROL_INTERVAL_YEARS, 12, 31)


def card_in_scope(
    session: Session, principal: StaffPrincipal, number: str, *, lock: bool = False
) -> Card:
    """The card, or CardNotFound when missing or outside the user's municipality."""
    stmt = select(Card).where(Card.number == number.strip())
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    card = session.scalars(stmt).first()
    if card is None or not principal.sees(card.municipality_code):
        raise CardNotFound(number=number.strip())
    return card


def _item(card: Card, holder_name: str, on: dt.date) -> CardItem:
    deadline, due, overdue = control_state(card.issued_on, card.last_control_on, card.status, on)
    return CardItem(
        number=card.number, holder_name=holder_name, status=card.status,
        municipality_code=card.municipality_code, valid_from=card.valid_from,
        issued_on=card.issued_on, last_control_on=card.last_control_on,
        control_due_on=deadline, control_due=due, control_overdue=overdue)


def search(uow: UnitOfWork, principal: StaffPrincipal, query: str) -> list[CardItem]:
    """By Frikort-ID (or its first digits), by CPR (through its keyed hash: a CPR-shaped query
    that is no valid CPR is refused), or by a part of the name, case-insensitive.

    Names are matched in Python: SQLite's lower() knows only ASCII, and Danish names need Æ,
    Ø and Å folded too. The query itself is never stored or logged.
    """
    require_role(principal)
    wanted = query.strip()
    if not wanted:
        return []
    base = (select(Card, Citizen.name).join(Citizen, Citizen.id == Card.citizen_id)
            .where(in_scope(principal, Card.municipality_code))
            .order_by(Citizen.name, Card.number))
    session = uow.session
    if _CPR_LIKE.fullmatch(wanted):
        digest = uow.vault.lookup_hash(normalise_cpr(wanted))
        rows = session.execute(base.where(Citizen.cpr_hash == digest)).all()
    elif _DIGITS.fullmatch(wanted):
        rows = session.execute(base.where(Card.number.startswith(wanted))
                               .limit(MAX_RESULTS)).all()
    else:
        needle = " ".join(wanted.casefold().split())
        rows = [row for row in session.execute(base) if needle in row[1].casefold()]
    return [_item(card, name, uow.today) for card, name in rows[:MAX_RESULTS]]


def controls_due(uow: UnitOfWork, principal: StaffPrincipal, on: dt.date | None) -> list[CardItem]:
    """Active cards in scope whose control must happen in `on`'s calendar year (default:
    today) or is overdue; the longest overdue first."""
    require_role(principal)
    day = on or uow.today
    base_date = func.coalesce(Card.last_control_on, Card.issued_on)
    rows = uow.session.execute(
        select(Card, Citizen.name).join(Citizen, Citizen.id == Card.citizen_id)
        .where(in_scope(principal, Card.municipality_code), Card.status == "active",
               base_date <= due_cutoff(day))
        .order_by(base_date, Card.number)).all()
    return [_item(card, name, day) for card, name in rows]


def detail(uow: UnitOfWork, principal: StaffPrincipal, number: str) -> CardDetail:
    require_role(principal)
    session = uow.session
    card = card_in_scope(session, principal, number)
    citizen = session.get(Citizen, card.citizen_id)
    assert citizen is not None
    deadline, due, overdue = control_state(card.issued_on, card.last_control_on, card.status,
                                           uow.today)
    link = session.get(LinkCode, card.id)
    return CardDetail(
        number=card.number, holder_name=citizen.name,
        cpr_masked=mask_cpr(uow.vault.decrypt(citizen.cpr_encrypted)),
        municipality_code=card.municipality_code,
        municipality_name=municipality_names().get(card.municipality_code, ""),
        status=card.status, valid_from=card.valid_from, issued_on=card.issued_on,
        last_control_on=card.last_control_on, control_due_on=deadline, control_due=due,
        control_overdue=overdue, balances=_balances(uow, card),
        reports=tuple(reversed(list(wage_report_rows(session, WageReport.card_id == card.id)))),
        employments=employment_items(session, Employment.card_id == card.id),
        history=_history(session, card), contacts=contact_items(session, citizen.id),
        link_code_issued_at=link.created_at if link else None)


def _balances(uow: UnitOfWork, card: Card) -> tuple[YearBalance, ...]:
    years = set(uow.session.scalars(select(CardBalance.year).where(CardBalance.card_id == card.id)))
    found = []
    for year in sorted(years | {uow.today.year}, reverse=True):
        balance = read_balance(uow.session, year, card_id=card.id)
        assert balance is not None
        found.append(year_balance(balance))
    return tuple(found)


def year_balance(balance: Balance) -> YearBalance:
    return YearBalance(
        year=balance.year, cap_ore=balance.cap_ore, cap_is_demo=balance.cap_is_demo,
        earned_ore=balance.posted_ore, reserved_ore=balance.pending_ore,
        over_cap_ore=balance.over_cap_ore, awaiting_cap_ore=balance.awaiting_cap_ore,
        left_ore=balance.remaining_ore)


def _history(session: Session, card: Card) -> tuple[CardEventItem, ...]:
    events = session.scalars(select(CardEvent).where(CardEvent.card_id == card.id)
                             .order_by(CardEvent.id))
    return tuple(CardEventItem(kind=e.kind, effective_on=e.effective_on, reason=e.reason,
                               municipality_code=e.municipality_code, actor=e.actor,
                               at=e.created_at) for e in events)


def contact_items(session: Session, citizen_id: int) -> tuple[ContactItem, ...]:
    contacts = session.scalars(select(CitizenContact).where(
        CitizenContact.citizen_id == citizen_id).order_by(CitizenContact.id))
    return tuple(ContactItem(id=c.id, kind=c.kind, masked=mask_address(c.kind, c.address),
                             linked_at=c.created_at) for c in contacts)


def employment_items(
    session: Session, *conditions: ColumnElement[bool]
) -> tuple[EmploymentItem, ...]:
    """Employments matching `conditions` (on Employment, Card or Employer), newest first."""
    rows = session.execute(
        select(Employment, Employer.cvr, Employer.name, Card.number, Citizen.name)
        .join(Employer, Employer.id == Employment.employer_id)
        .join(Card, Card.id == Employment.card_id)
        .join(Citizen, Citizen.id == Card.citizen_id)
        .where(*conditions)
        .order_by(Employment.start_date.desc(), Employment.id.desc())).all()
    return tuple(EmploymentItem(
        id=e.id, employer_cvr=cvr, employer_name=employer_name, card_number=number,
        holder_name=holder, start_date=e.start_date, end_date=e.end_date,
        weekly_hours=Decimal(e.weekly_hours_centi) / 100, contract_required=e.contract_required,
    ) for e, cvr, employer_name, number, holder in rows)
