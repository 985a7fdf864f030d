"""Employers in the console: list, one employer, verify after checking the CVR.

Employers belong to no municipality, so every console role sees and may verify all of them.
What they show of card holders (employments, reports) is scoped like cards: a caseworker or
consultant sees only the card holders of their own municipality.
"""

from __future__ import annotations

from sqlalchemy import func, select

from casework.cards import employment_items
from casework.records import ContactItem, EmployerDetail, EmployerItem
from db.tables import Card, Employer, EmployerContact, Employment, WageReport
from db.unit_of_work import UnitOfWork
from ledger.commands import VerifyEmployer
from ledger.queries import wage_report_rows
from ledger.results import EmployerResult
from ledger.service import employers as employer_service
from ledger.service.lookups import employer_by_cvr
from staff.access import in_scope
from staff.principal import StaffPrincipal
from staff.redaction import NOTE_MAX, clean_text, mask_address


def employers(uow: UnitOfWork, principal: StaffPrincipal, query: str | None) -> list[EmployerItem]:
    """Not yet verified first (they wait for the municipality), then by name. `query`: the
    first digits of a CVR, or part of the name or contact person (case-insensitive)."""
    session = uow.session
    counts: dict[int, int] = dict(session.execute(
        select(Employment.employer_id, func.count(Employment.id))
        .join(Card, Card.id == Employment.card_id)
        .where(in_scope(principal, Card.municipality_code))
        .group_by(Employment.employer_id)).tuples().all())
    rows = list(session.scalars(select(Employer).order_by(Employer.verified, Employer.name,
                                                          Employer.cvr)))
    wanted = " ".join((query or "").casefold().split())
    if wanted.isdigit():
        rows = [e for e in rows if e.cvr.startswith(wanted)]
    elif wanted:
        rows = [e for e in rows
                if wanted in e.name.casefold() or wanted in e.contact_person.casefold()]
    return [EmployerItem(cvr=e.cvr, name=e.name, verified=e.verified, verified_at=e.verified_at,
                         contact_person=e.contact_person, employments=int(counts.get(e.id, 0)))
            for e in rows]


def employer(uow: UnitOfWork, principal: StaffPrincipal, cvr: str) -> EmployerDetail:
    session = uow.session
    found = employer_by_cvr(session, cvr)
    contacts = session.scalars(select(EmployerContact).where(
        EmployerContact.employer_id == found.id).order_by(EmployerContact.id))
    visible = in_scope(principal, Card.municipality_code)
    reports = wage_report_rows(session, WageReport.employer_id == found.id, visible)
    return EmployerDetail(
        cvr=found.cvr, name=found.name, verified=found.verified, verified_at=found.verified_at,
        contact_person=found.contact_person, registered_at=found.created_at,
        contacts=tuple(ContactItem(id=c.id, kind=c.kind, masked=mask_address(c.kind, c.address),
                                   linked_at=c.created_at) for c in contacts),
        employments=employment_items(session, Employment.employer_id == found.id, visible),
        reports=tuple(reversed(list(reports))))


def verify(uow: UnitOfWork, principal: StaffPrincipal, cvr: str, note: str) -> EmployerResult:
    """Marks the employer checked (harmless when it already is) and records who checked it,
    with the note, in the audit log."""
    text = clean_text(note, NOTE_MAX) if note.strip() else ""
    with uow.nested() as nested:
        result = employer_service.verify_employer(VerifyEmployer(cvr=cvr), uow=nested,
                                                  actor=principal.actor)
    uow.audit(principal.actor, "employer.checked", "employer", result.cvr, note=text)
    uow.commit()
    return result
