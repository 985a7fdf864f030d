"""Changing cards from the console, through the ledger's own service functions.

Each action checks the role, finds the card in the user's scope under a row lock, and runs
the existing service function (`ledger.service.cards`, `.reports`) in a savepoint of the same
transaction with the user as actor, so it lands in the audit log exactly as a REST or bot
change would. What the commands have no field for (a transfer's reason, a control's note,
a report's note) is written to the audit log next to it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select

from casework.cards import card_in_scope
from casework.errors import ContactNotFound, InvalidContact, ReasonRequired, SameMunicipality
from db.commands import Command
from db.errors import InvalidInput
from db.tables import Card, CitizenContact
from db.unit_of_work import UnitOfWork
from ledger.commands import (
    DeactivateCard,
    ReactivateCard,
    RecordControl,
    ReportWage,
    ReverseReport,
    TransferCard,
)
from ledger.errors import HoursImplausible, ReportNotFound
from ledger.results import CardResult, WageReportResult
from ledger.service import cards, reports
from ledger.service.contacts import link_contact as link_citizen_contact
from ledger.service.link_codes import new_link_code
from ledger.service.lookups import normalise_phone
from ledger.service.report_state import load_report
from staff.access import require_role
from staff.principal import StaffPrincipal
from staff.redaction import NOTE_MAX, REASON_MAX, clean_text, mask_address

R = TypeVar("R")
CONTACT_KINDS = {"sms": "phone", "phone": "phone", "telegram": "telegram"}
"""What the page may name a contact's channel, and the contact kind it is stored as."""


def _run(uow: UnitOfWork, principal: StaffPrincipal, handler: Callable[..., R],
         cmd: Command) -> R:
    """A service command in a savepoint: its own commit releases the savepoint only."""
    with uow.nested() as nested:
        return handler(cmd, uow=nested, actor=principal.actor)


def _locked(uow: UnitOfWork, principal: StaffPrincipal, number: str) -> Card:
    require_role(principal)
    return card_in_scope(uow.session, principal, number, lock=True)


def _note(uow: UnitOfWork, principal: StaffPrincipal, action: str, entity: str,
          entity_id: object, **details: Any) -> None:
    uow.audit(principal.actor, action, entity, entity_id, **details)


def deactivate(uow: UnitOfWork, principal: StaffPrincipal, number: str, reason: str) -> CardResult:
    """From today, the decision date (§ 3 stk. 2)."""
    require_role(principal)
    because = clean_text(reason, REASON_MAX, missing=ReasonRequired)
    card = _locked(uow, principal, number)
    result = _run(uow, principal, cards.deactivate_card,
                  DeactivateCard(number=card.number, reason=because))
    uow.commit()
    return result


def reactivate(uow: UnitOfWork, principal: StaffPrincipal, number: str, reason: str) -> CardResult:
    require_role(principal)
    because = clean_text(reason, REASON_MAX, missing=ReasonRequired)
    card = _locked(uow, principal, number)
    result = _run(uow, principal, cards.reactivate_card,
                  ReactivateCard(number=card.number, reason=because))
    uow.commit()
    return result


def record_control(
    uow: UnitOfWork, principal: StaffPrincipal, number: str, note: str
) -> CardResult:
    """A control done today; the note (optional) goes to the audit log."""
    require_role(principal)
    text = clean_text(note, NOTE_MAX) if note.strip() else ""
    card = _locked(uow, principal, number)
    result = _run(uow, principal, cards.record_control, RecordControl(number=card.number))
    if text:
        _note(uow, principal, "card.control.note", "card", card.number, note=text)
    uow.commit()
    return result


def transfer(uow: UnitOfWork, principal: StaffPrincipal, number: str, municipality_code: str,
             reason: str) -> CardResult:
    """To a new handlekommune; afterwards a caseworker of the old one no longer sees it."""
    require_role(principal)
    because = clean_text(reason, REASON_MAX, missing=ReasonRequired)
    card = _locked(uow, principal, number)
    target = municipality_code.strip()
    if target == card.municipality_code:
        raise SameMunicipality(code=target)
    result = _run(uow, principal, cards.transfer_card,
                  TransferCard(number=card.number, municipality_code=target))
    _note(uow, principal, "card.transfer.reason", "card", card.number, reason=because)
    uow.commit()
    return result


def _contact(channel: str, address: str) -> tuple[str, str]:
    """(kind, normalised address), or a typed refusal."""
    kind = CONTACT_KINDS.get(channel.strip().lower())
    if kind is None:
        raise InvalidContact()
    if kind == "phone":
        return kind, normalise_phone(address)
    telegram_id = address.strip()
    if not telegram_id.isascii() or not telegram_id.isdigit() or len(telegram_id) > 20:
        raise InvalidContact()
    return kind, telegram_id


def link_contact(uow: UnitOfWork, principal: StaffPrincipal, number: str, channel: str,
                 address: str) -> None:
    """Links a phone or Telegram id to the holder; one linked to someone else is refused
    (`ContactInUse`), one already theirs is left as it is."""
    require_role(principal)
    kind, value = _contact(channel, address)
    card = _locked(uow, principal, number)
    link_citizen_contact(uow.session, card.citizen_id, kind, value, uow.now)
    _note(uow, principal, "contact.link", "card", card.number, kind=kind,
          address=mask_address(kind, value))
    uow.commit()


def unlink_contact(uow: UnitOfWork, principal: StaffPrincipal, number: str, channel: str,
                   address: str) -> None:
    require_role(principal)
    kind, value = _contact(channel, address)
    card = _locked(uow, principal, number)
    found = uow.session.scalar(select(CitizenContact).where(
        CitizenContact.citizen_id == card.citizen_id, CitizenContact.kind == kind,
        CitizenContact.address == value))
    _unlink(uow, principal, card, found)


def unlink_contact_id(uow: UnitOfWork, principal: StaffPrincipal, number: str,
                      contact_id: int) -> None:
    """As `unlink_contact`, by a `ContactItem.id` from the card page (which shows the
    address masked only)."""
    card = _locked(uow, principal, number)
    found = uow.session.get(CitizenContact, contact_id)
    _unlink(uow, principal, card, found)


def _unlink(uow: UnitOfWork, principal: StaffPrincipal, card: Card,
            found: CitizenContact | None) -> None:
    if found is None or found.citizen_id != card.citizen_id:
        raise ContactNotFound()
    masked = mask_address(found.kind, found.address)
    uow.session.delete(found)
    _note(uow, principal, "contact.unlink", "card", card.number, kind=found.kind, address=masked)
    uow.commit()


def reissue_link_code(uow: UnitOfWork, principal: StaffPrincipal, number: str) -> str:
    """A new code for linking a phone; the old one stops working. Only its hash is stored,
    so the page shows the returned code once."""
    card = _locked(uow, principal, number)
    code = new_link_code(uow.session, card, uow.config.cpr_hash_key, uow.now)
    _note(uow, principal, "card.link_code", "card", card.number)
    uow.commit()
    return code


def reverse_report(uow: UnitOfWork, principal: StaffPrincipal, report_id: int,
                   reason: str) -> WageReportResult:
    """Corrects a posted report by a reversal entry; a report on a card outside the user's
    scope is not found."""
    require_role(principal)
    because = clean_text(reason, REASON_MAX, missing=ReasonRequired)
    facts = load_report(uow.session, report_id)
    owner = uow.session.get(Card, facts.card_id)
    if owner is None or not principal.sees(owner.municipality_code):
        raise ReportNotFound(id=report_id)
    result = _run(uow, principal, reports.reverse_report,
                  ReverseReport(report_id=report_id, reason=because))
    uow.commit()
    return result


def post_on_behalf(
    uow: UnitOfWork, principal: StaffPrincipal, number: str, cvr: str, amount_ore: int,
    hours: Decimal | str, paid_on: dt.date, note: str, idempotency_key: str | None,
) -> WageReportResult:
    """A report an employer gave by phone, posted at once under the same rules as theirs
    (verified employer, employment, active card, cap). Pass the form's one-time key as
    `idempotency_key` so a double click posts once; without one, each call is a new report."""
    require_role(principal)
    text = clean_text(note, NOTE_MAX) if note.strip() else ""
    card = card_in_scope(uow.session, principal, number)
    key = idempotency_key or f"console:{uuid.uuid4().hex}"
    try:
        worked = Decimal(str(hours))
        if worked < 0:
            raise HoursImplausible()
        cmd = ReportWage(employer_cvr=cvr, card_number=card.number, paid_on=paid_on,
                         hours=worked, amount_ore=amount_ore, idempotency_key=key, post=True)
    except (InvalidOperation, ValidationError) as exc:
        raise InvalidInput("wage report fields") from exc
    result = _run(uow, principal, reports.report_wage, cmd)
    if not result.replayed:
        _note(uow, principal, "wage_report.on_behalf", "wage_report", result.id,
              employer=result.employer_cvr, note=text)
    uow.commit()
    return result
