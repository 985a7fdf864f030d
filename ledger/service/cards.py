"""Cards: issue, deactivate, reactivate, transfer, control. History is kept as dated events."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.base import one_of
from db.commands import Actor
from db.tables import Card, CardEvent, Citizen
from db.unit_of_work import UnitOfWork
from db.vault import normalise_cpr
from ledger import rules
from ledger.commands import DeactivateCard, IssueCard, ReactivateCard, RecordControl, TransferCard
from ledger.errors import (
    BackdatedDecision,
    CardNotActive,
    CardNotFound,
    CardNotValidOnDate,
    CardNumberTaken,
    CardStatusUnchanged,
    CitizenHasCard,
    InvalidDates,
)
from ledger.results import CARD_STATUSES, Balance, CardResult
from ledger.service.balances import read_card_year
from ledger.service.contacts import link_contact
from ledger.service.link_codes import new_link_code
from ledger.service.lookups import card_by_number, municipality, normalise_phone


def issue_card(cmd: IssueCard, *, uow: UnitOfWork, actor: Actor) -> CardResult:
    """Grants a card: creates the citizen if new, and links the given phone or Telegram id."""
    session = uow.session
    cpr = normalise_cpr(cmd.cpr)
    place = municipality(session, cmd.municipality_code)
    phone = normalise_phone(cmd.phone) if cmd.phone else None
    citizen = _citizen_for(uow, cpr, cmd.name, place.code)
    existing = session.scalar(select(Card).where(Card.citizen_id == citizen.id))
    if existing is not None:
        raise CitizenHasCard(number=existing.number)
    if cmd.number and session.scalar(select(Card.id).where(Card.number == cmd.number)):
        raise CardNumberTaken(number=cmd.number)
    card = Card(
        number=cmd.number or _new_card_number(session), citizen_id=citizen.id, status="active",
        valid_from=cmd.valid_from, issued_on=uow.today, municipality_code=place.code,
    )
    session.add(card)
    session.flush()
    _add_event(uow, card, "issued", cmd.valid_from, "", actor)
    for kind, address in (("phone", phone), ("telegram", cmd.telegram_id)):
        if address:
            link_contact(session, citizen.id, kind, address, uow.now)
    uow.audit(actor, "card.issue", "card", card.number, municipality=place.code)
    code = new_link_code(session, card, uow.config.cpr_hash_key, uow.now)
    result = card_result(session, card).model_copy(update={"link_code": code})
    uow.commit()
    return result


def _citizen_for(uow: UnitOfWork, cpr: str, name: str, municipality_code: str) -> Citizen:
    lookup = uow.vault.lookup_hash(cpr)
    citizen = uow.session.scalar(select(Citizen).where(Citizen.cpr_hash == lookup))
    if citizen is None:
        citizen = Citizen(name=name, cpr_hash=lookup, cpr_encrypted=uow.vault.encrypt(cpr),
                          language="da", municipality_code=municipality_code, created_at=uow.now)
        uow.session.add(citizen)
        uow.session.flush()
    return citizen


def _new_card_number(session: Session) -> str:
    """A random personal 5-digit Frikort-ID; random so numbers reveal nothing about volume."""
    while True:
        number = str(10000 + secrets.randbelow(90000))
        if session.scalar(select(Card.id).where(Card.number == number)) is None:
            return number


def deactivate_card(cmd: DeactivateCard, *, uow: UnitOfWork, actor: Actor) -> CardResult:
    """Deactivates from the decision date, never earlier (§ 3 stk. 2)."""
    effective_on = cmd.effective_on or uow.today
    if effective_on < uow.today:
        raise BackdatedDecision()
    if effective_on > uow.today:
        # The decision takes effect when it is made; a deactivation planned for later is
        # decided (and recorded) on that day, so the card stays usable until then.
        raise InvalidDates(reason="En deaktivering gælder fra i dag, hvor den besluttes. "
                                  "Den kan ikke sættes til en senere dato.")
    return _change_status(uow, cmd.number, "deactivated", effective_on, cmd.reason, actor)


def reactivate_card(cmd: ReactivateCard, *, uow: UnitOfWork, actor: Actor) -> CardResult:
    return _change_status(uow, cmd.number, "active", uow.today, cmd.reason, actor)


def _change_status(
    uow: UnitOfWork, number: str, status: str, effective_on: dt.date, reason: str, actor: Actor
) -> CardResult:
    card = card_by_number(uow.session, number)
    if card.status == status:
        raise CardStatusUnchanged(number=card.number, status=_DANISH_STATUS[status])
    card.status = status
    kind = "deactivated" if status == "deactivated" else "reactivated"
    _add_event(uow, card, kind, effective_on, reason, actor)
    uow.audit(actor, f"card.{kind}", "card", card.number, reason=reason,
              effective_on=effective_on.isoformat())
    result = card_result(uow.session, card)
    uow.commit()
    return result


_DANISH_STATUS = {"active": "aktivt", "deactivated": "deaktiveret"}


def transfer_card(cmd: TransferCard, *, uow: UnitOfWork, actor: Actor) -> CardResult:
    """Moves the card to a new handlekommune; its history and ledger go with it (§ 6 stk. 2 nr. 6)."""
    card = card_by_number(uow.session, cmd.number)
    place = municipality(uow.session, cmd.municipality_code)
    previous = card.municipality_code
    card.municipality_code = place.code
    citizen = uow.session.get(Citizen, card.citizen_id)
    assert citizen is not None
    citizen.municipality_code = place.code
    _add_event(uow, card, "transferred", uow.today, f"{previous} -> {place.code}", actor)
    uow.audit(actor, "card.transfer", "card", card.number, source=previous, target=place.code)
    result = card_result(uow.session, card)
    uow.commit()
    return result


def record_control(cmd: RecordControl, *, uow: UnitOfWork, actor: Actor) -> CardResult:
    controlled_on = cmd.controlled_on or uow.today
    card = card_by_number(uow.session, cmd.number)
    if controlled_on > uow.today or controlled_on < card.issued_on:
        raise InvalidDates(reason="Kontroldatoen skal ligge mellem udstedelse og i dag.")
    if card.last_control_on is not None and controlled_on < card.last_control_on:
        raise InvalidDates(reason="Kontroldatoen ligger før kortets seneste kontrol "
                                  f"({card.last_control_on.strftime('%d.%m.%Y')}).")
    card.last_control_on = controlled_on
    _add_event(uow, card, "controlled", controlled_on, "", actor)
    uow.audit(actor, "card.control", "card", card.number, controlled_on=controlled_on.isoformat())
    result = card_result(uow.session, card)
    uow.commit()
    return result


def _add_event(
    uow: UnitOfWork, card: Card, kind: str, effective_on: dt.date, reason: str, actor: Actor
) -> None:
    uow.session.add(CardEvent(
        card_id=card.id, kind=kind, effective_on=effective_on, reason=reason,
        municipality_code=card.municipality_code, actor=actor.name, created_at=uow.now,
    ))


STATUS_EVENT_KINDS = ("issued", "deactivated", "reactivated")
"""The card events that change whether the card may be used."""


def status_on(session: Session, card: Card | int, day: dt.date) -> str:
    """The card's status on a given day, replaying its dated history."""
    card_id = card if isinstance(card, int) else card.id
    events = session.scalars(
        select(CardEvent)
        .where(CardEvent.card_id == card_id,
               CardEvent.kind.in_(STATUS_EVENT_KINDS),
               CardEvent.effective_on <= day)
        # Decision order, not effective-date order: a later decision overrides an earlier
        # one from its own effective date on. Sorting by effective_on let the "issued"
        # event (dated valid_from) win over a deactivation decided before valid_from.
        .order_by(CardEvent.id)
    ).all()
    status = "deactivated"
    for event in events:
        status = "deactivated" if event.kind == "deactivated" else "active"
    return status


def require_usable_on(session: Session, card: Card, day: dt.date) -> None:
    """A report may only count if the card was valid and active on the payment date."""
    require_usable(session, card_id=card.id, number=card.number, status=card.status,
                   valid_from=card.valid_from, last_change=_last_status_change(session, card),
                   day=day)


def require_usable(
    session: Session, *, card_id: int, number: str, status: str, valid_from: dt.date,
    last_change: dt.date | None, day: dt.date,
) -> None:
    """`require_usable_on` from values already read (`last_change`: the newest effective
    date of a status event). Replays the history only when the card is not simply active
    since before `day`."""
    if day < valid_from:
        raise CardNotValidOnDate(number=number, date=day.strftime("%d.%m.%Y"),
                                 valid_from=valid_from.strftime("%d.%m.%Y"))
    if status == "active" and day >= (last_change or valid_from):
        return
    if status_on(session, card_id, day) != "active":
        raise CardNotActive(number=number)


def _last_status_change(session: Session, card: Card) -> dt.date | None:
    return session.scalar(
        select(CardEvent.effective_on)
        .where(CardEvent.card_id == card.id, CardEvent.kind.in_(STATUS_EVENT_KINDS))
        .order_by(CardEvent.effective_on.desc(), CardEvent.id.desc())
        .limit(1)
    )


def card_result(session: Session, card: Card) -> CardResult:
    citizen = session.get(Citizen, card.citizen_id)
    assert citizen is not None
    return _result(card, citizen.name)


def card_and_balance(session: Session, number: str, year: int) -> tuple[CardResult, Balance]:
    """The card (as `card_result` has it) and its balance for a year (as `read_balance` has
    it) in one round trip: a card holder's FAQ and SALDO need both (`ledger.reads`)."""
    found = read_card_year(session, number.strip(), year)
    if found is None:
        raise CardNotFound(number=number)
    row, balance = found
    card = CardResult(
        number=balance.card_number, status=one_of(row.status, CARD_STATUSES),
        valid_from=row.valid_from, issued_on=row.issued_on,
        municipality_code=row.municipality_code, last_control_on=row.last_control_on,
        next_control_due=rules.next_control_due(row.issued_on, row.last_control_on),
        holder_name=row.name,
    )
    return card, balance


def _result(card: Card, holder_name: str) -> CardResult:
    return CardResult(
        number=card.number, status=one_of(card.status, CARD_STATUSES),
        valid_from=card.valid_from, issued_on=card.issued_on,
        municipality_code=card.municipality_code, last_control_on=card.last_control_on,
        next_control_due=rules.next_control_due(card.issued_on, card.last_control_on),
        holder_name=holder_name,
    )
