"""Lists of people: the employer's own list ("adopt" model) and a helper's phone list.

An employer adds a card holder it knows by Frikort-ID. It sees their first name only once
the two have worked together (a task taken or an employment), so typing Frikort-IDs cannot
be used to learn who holds a card.

A helper (a værested or herberg employee, console role "helper") keeps a phone list of card
holders who want small jobs, each with the consent the holder gave, and may sign only those
up for tasks. Helpers see their own list only, and add only cards of their own municipality
(an administrator any).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select

from conversations import notify
from db.commands import Actor
from db.tables import Card, Citizen, Employment
from db.task_tables import EmployerKnownPerson, HelperPhoneListEntry, Task, TaskAssignment
from db.unit_of_work import UnitOfWork
from ledger.errors import CardNotFound
from ledger.service.lookups import card_by_number, employer_by_cvr
from smalljobs.errors import ConsentRequired, PhoneListEntryNotFound
from smalljobs.records import KnownPerson, PhoneListEntry
from smalljobs.texts import first_name
from staff.access import require_role
from staff.principal import Role, StaffPrincipal
from staff.redaction import clean_text, mask_address

HELPER_ROLES: tuple[Role, ...] = ("helper", "caseworker", "admin")
"""May keep a phone list and sign people on it up for tasks."""


def _worked_together(employer_id: int) -> ColumnElement[bool]:
    """SQL: the card's holder has taken a task from, or been employed by, the employer."""
    took = exists().where(TaskAssignment.card_id == Card.id, TaskAssignment.task_id == Task.id,
                          Task.employer_id == employer_id)
    employed = exists().where(Employment.card_id == Card.id,
                              Employment.employer_id == employer_id)
    return or_(took, employed)


def add_known_person(uow: UnitOfWork, employer_cvr: str, card_number: str,
                     actor: Actor) -> KnownPerson:
    """Adds a card holder to the employer's own list (adding twice changes nothing)."""
    employer = employer_by_cvr(uow.session, employer_cvr)
    card = card_by_number(uow.session, card_number)
    if uow.session.get(EmployerKnownPerson, (employer.id, card.id)) is None:
        uow.session.add(EmployerKnownPerson(employer_id=employer.id, card_id=card.id,
                                            actor=actor.name, created_at=uow.now))
        uow.session.flush()
        uow.audit(actor, "known_person.add", "employer", employer.cvr, card=card.number)
    person = _known(uow, employer.id, card.id)
    uow.commit()
    return person


def remove_known_person(uow: UnitOfWork, employer_cvr: str, card_number: str,
                        actor: Actor) -> bool:
    """True when the card holder was on the list."""
    employer = employer_by_cvr(uow.session, employer_cvr)
    card = card_by_number(uow.session, card_number)
    found = uow.session.get(EmployerKnownPerson, (employer.id, card.id))
    if found is None:
        return False
    uow.session.delete(found)
    uow.audit(actor, "known_person.remove", "employer", employer.cvr, card=card.number)
    uow.commit()
    return True


def known_people(uow: UnitOfWork, employer_cvr: str) -> list[KnownPerson]:
    employer = employer_by_cvr(uow.session, employer_cvr)
    return [_row_to_known(row) for row in uow.session.execute(
        _known_query(employer.id).order_by(EmployerKnownPerson.created_at, Card.number))]


def _known_query(employer_id: int) -> Select[Any]:
    return (select(Card.number, Citizen.name, EmployerKnownPerson.created_at,
                   _worked_together(employer_id))
            .join(Card, Card.id == EmployerKnownPerson.card_id)
            .join(Citizen, Citizen.id == Card.citizen_id)
            .where(EmployerKnownPerson.employer_id == employer_id))


def _known(uow: UnitOfWork, employer_id: int, card_id: int) -> KnownPerson:
    return _row_to_known(uow.session.execute(
        _known_query(employer_id).where(EmployerKnownPerson.card_id == card_id)).one())


def _row_to_known(row: Any) -> KnownPerson:
    number, name, added_at, worked = row
    return KnownPerson(card_number=number, first_name=first_name(name) if worked else "",
                       added_at=added_at)


# Helpers' phone lists -----------------------------------------------------------------------


def add_to_phone_list(uow: UnitOfWork, principal: StaffPrincipal, card_number: str,
                      consent_note: str) -> PhoneListEntry:
    """Adds a card holder of the helper's municipality, with how they consented; adding
    again updates the consent note."""
    require_role(principal, HELPER_ROLES)
    consent = clean_text(consent_note, 2000, missing=ConsentRequired)
    card = card_by_number(uow.session, card_number)
    if not principal.sees(card.municipality_code):
        raise CardNotFound(number=card.number)
    entry = uow.session.scalar(select(HelperPhoneListEntry).where(
        HelperPhoneListEntry.staff_user_id == principal.id,
        HelperPhoneListEntry.card_id == card.id))
    if entry is None:
        entry = HelperPhoneListEntry(staff_user_id=principal.id, card_id=card.id,
                                     created_at=uow.now)
        uow.session.add(entry)
    entry.consent_note = consent
    uow.session.flush()
    uow.audit(principal.actor, "phone_list.add", "card", card.number, entry=entry.id)
    found = _entries(uow, principal, entry.id)[0]
    uow.commit()
    return found


def phone_list(uow: UnitOfWork, principal: StaffPrincipal) -> list[PhoneListEntry]:
    require_role(principal, HELPER_ROLES)
    return _entries(uow, principal)


def remove_from_phone_list(uow: UnitOfWork, principal: StaffPrincipal, entry_id: int) -> None:
    require_role(principal, HELPER_ROLES)
    entry = uow.session.get(HelperPhoneListEntry, entry_id)
    if entry is None or entry.staff_user_id != principal.id:
        raise PhoneListEntryNotFound(entry_id=entry_id)
    uow.session.delete(entry)
    uow.audit(principal.actor, "phone_list.remove", "phone_list", entry_id)
    uow.commit()


def _entries(uow: UnitOfWork, principal: StaffPrincipal,
             entry_id: int | None = None) -> list[PhoneListEntry]:
    stmt = (select(HelperPhoneListEntry, Card.number, Card.id, Citizen.name)
            .join(Card, Card.id == HelperPhoneListEntry.card_id)
            .join(Citizen, Citizen.id == Card.citizen_id)
            .where(HelperPhoneListEntry.staff_user_id == principal.id)
            .order_by(Citizen.name, HelperPhoneListEntry.id))
    if entry_id is not None:
        stmt = stmt.where(HelperPhoneListEntry.id == entry_id)
    found = []
    for entry, number, card_id, name in uow.session.execute(stmt):
        phones = [address for kind, address in notify.holder_contacts(uow.session, card_id)
                  if kind == "phone"]
        found.append(PhoneListEntry(
            id=entry.id, card_number=number, holder_name=name, holder_first_name=first_name(name),
            consent_note=entry.consent_note, added_by=principal.username,
            added_at=entry.created_at,
            phone_masked=mask_address("phone", phones[0]) if phones else None))
    return found
