"""Who a sender is, with the figures a rule answer or SALDO shows them, in one SELECT.

Every message's turn reads the sender's identity (the card holder linked to the address, the
employer contact), and a FAQ or SALDO turn then read the card with its year's balance and the
cap, and the caps of every year: three round trips in a turn whose own statements are few.
This is one: a UNION ALL of the holder's row (the card, its holder's name, its balance row
for the year and the year's newest cap), the employer rows, and the newest cap of every year,
padded to one shape. Each branch casts its padding, so the rows come back typed on both
PostgreSQL and SQLite (a compound select takes its column types from its first branch).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from db.base import one_of, table_of
from db.tables import (
    CapVersion,
    Card,
    CardBalance,
    Citizen,
    CitizenContact,
    Employer,
    EmployerContact,
    UtcDateTime,
)
from ledger import rules
from ledger.results import CARD_STATUSES, Balance, CapResult, CardResult

@dataclass(frozen=True)
class SenderFigures:
    """One read of a sender: identity, the linked card's year, and the caps of every year."""

    year: int
    card: CardResult | None
    """The linked card holder's card (the first by id when a citizen has several)."""
    balance: Balance | None
    """That card's balance for `year`, with the year's cap in force."""
    employer_cvr: str | None
    employer_name: str | None
    employer_verified: bool
    caps: tuple[CapResult, ...]
    """The newest cap of every year, oldest year first (as `ledger.queries.caps`)."""


_CARDS = table_of(Card)
_CITIZENS = table_of(Citizen)
_CONTACTS = table_of(CitizenContact)
_BALANCES = table_of(CardBalance)
_CAPS = table_of(CapVersion)
_CAP_IN_FORCE = _CAPS.alias("cap_in_force")
_EMPLOYERS = table_of(Employer)
_EMPLOYER_CONTACTS = table_of(EmployerContact)
_YEAR = bindparam("s_year", type_=Integer)

_SHAPE: tuple[tuple[str, TypeEngine[Any]], ...] = (
    ("who", String()), ("key", String()), ("name", Text()), ("verified", Boolean()),
    ("rank", BigInteger()), ("status", String()), ("valid_from", Date()),
    ("issued_on", Date()), ("municipality", String()), ("last_control_on", Date()),
    ("posted", BigInteger()), ("pending", BigInteger()), ("over_cap", BigInteger()),
    ("awaiting", BigInteger()), ("cap_year", Integer()), ("cap_amount", BigInteger()),
    ("cap_is_demo", Boolean()), ("cap_source", Text()), ("cap_actor", String()),
    ("cap_at", UtcDateTime()),
)


def _branch(who: str, **values: Any) -> list[Any]:
    """One branch's columns in the shared shape: its own values, typed NULLs for the rest."""
    return [literal(who, String()).label("who"), *(
        (values[name] if name in values else cast(null(), kind)).label(name)
        for name, kind in _SHAPE[1:])]


_NEWEST_CAP_OF_YEAR = (select(func.max(_CAPS.c.id)).where(_CAPS.c.year == _YEAR)
                       .scalar_subquery())
_HOLDER = (
    select(*_branch(
        "holder", key=_CARDS.c.number, name=_CITIZENS.c.name, rank=_CARDS.c.id,
        status=_CARDS.c.status, valid_from=_CARDS.c.valid_from, issued_on=_CARDS.c.issued_on,
        municipality=_CARDS.c.municipality_code, last_control_on=_CARDS.c.last_control_on,
        posted=_BALANCES.c.posted_ore, pending=_BALANCES.c.pending_ore,
        over_cap=_BALANCES.c.over_cap_ore, awaiting=_BALANCES.c.awaiting_ore,
        cap_amount=_CAP_IN_FORCE.c.amount_ore, cap_is_demo=_CAP_IN_FORCE.c.is_demo))
    .select_from(_CARDS)
    .join(_CITIZENS, _CITIZENS.c.id == _CARDS.c.citizen_id)
    .join(_CONTACTS, _CONTACTS.c.citizen_id == _CITIZENS.c.id)
    .outerjoin(_BALANCES, (_BALANCES.c.card_id == _CARDS.c.id) & (_BALANCES.c.year == _YEAR))
    .outerjoin(_CAP_IN_FORCE, _CAP_IN_FORCE.c.id == _NEWEST_CAP_OF_YEAR)
    .where(_CONTACTS.c.kind == bindparam("s_kind"),
           _CONTACTS.c.address == bindparam("s_address")))
_EMPLOYER = (
    select(*_branch("employer", key=_EMPLOYERS.c.cvr, name=_EMPLOYERS.c.name,
                    verified=_EMPLOYERS.c.verified, rank=_EMPLOYERS.c.id))
    .select_from(_EMPLOYERS)
    .join(_EMPLOYER_CONTACTS, _EMPLOYER_CONTACTS.c.employer_id == _EMPLOYERS.c.id)
    .where(_EMPLOYER_CONTACTS.c.kind == bindparam("s_kind"),
           _EMPLOYER_CONTACTS.c.address == bindparam("s_address")))
_NEWEST_PER_YEAR = (select(func.max(_CAPS.c.id).label("id")).group_by(_CAPS.c.year)
                    .subquery())
_CAP_ROWS = (
    select(*_branch("cap", rank=_CAPS.c.year, cap_year=_CAPS.c.year,
                    cap_amount=_CAPS.c.amount_ore, cap_is_demo=_CAPS.c.is_demo,
                    cap_source=_CAPS.c.source, cap_actor=_CAPS.c.actor,
                    cap_at=_CAPS.c.created_at))
    .select_from(_CAPS).join(_NEWEST_PER_YEAR, _NEWEST_PER_YEAR.c.id == _CAPS.c.id))
_ALL = union_all(_HOLDER, _EMPLOYER, _CAP_ROWS).subquery()
_SENDER = select(_ALL).order_by(_ALL.c.who, _ALL.c.verified.desc(), _ALL.c.rank)
"""Built once: it runs for every message."""


def read_sender(session: Session, kind: str, address: str, year: int) -> SenderFigures:
    """The sender of a contact `kind` ("phone" or "telegram") and address, in one round trip:
    a linked card holder (the first card by id) with the card's `year`, the employer whose
    contact it is (a verified one first), and the newest cap of every year."""
    holder = employer = None
    caps: list[CapResult] = []
    for row in session.connection().execute(_SENDER, {
            "s_kind": kind, "s_address": address, "s_year": year}):
        if row.who == "holder" and holder is None:
            holder = row
        elif row.who == "employer" and employer is None:
            employer = row
        elif row.who == "cap":
            caps.append(CapResult(year=row.cap_year, amount_ore=row.cap_amount,
                                  source=row.cap_source, is_demo=bool(row.cap_is_demo),
                                  set_by=row.cap_actor, set_at=row.cap_at))
    card = balance = None
    if holder is not None:
        card, balance = _card_year(holder, year)
    return SenderFigures(
        year=year, card=card, balance=balance,
        employer_cvr=employer.key if employer is not None else None,
        employer_name=employer.name if employer is not None else None,
        employer_verified=bool(employer is not None and employer.verified),
        caps=tuple(caps))


def _card_year(row: Any, year: int) -> tuple[CardResult, Balance]:
    """As `cards.card_and_balance` makes them from its own SELECT."""
    issued_on: dt.date = row.issued_on
    card = CardResult(
        number=row.key, status=one_of(row.status, CARD_STATUSES), valid_from=row.valid_from,
        issued_on=issued_on, municipality_code=row.municipality,
        last_control_on=row.last_control_on,
        next_control_due=rules.next_control_due(issued_on, row.last_control_on),
        holder_name=row.name)
    has_cap = row.cap_amount is not None
    balance = Balance(
        card_number=row.key, year=year,
        cap_ore=int(row.cap_amount) if has_cap else None,
        cap_is_demo=bool(row.cap_is_demo) if has_cap else False,
        posted_ore=int(row.posted or 0), pending_ore=int(row.pending or 0),
        over_cap_ore=int(row.over_cap or 0), awaiting_cap_ore=int(row.awaiting or 0))
    return card, balance
