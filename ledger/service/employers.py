"""Employers: registered by anyone, verified by a caseworker before their reports count."""

from __future__ import annotations

from sqlalchemy import insert, select

from db.commands import Actor
from db.tables import Employer, EmployerContact
from db.unit_of_work import UnitOfWork
from ledger.commands import RegisterEmployer, VerifyEmployer
from ledger.errors import EmployerExists
from ledger.results import EmployerResult
from ledger.service.lookups import employer_by_cvr, normalise_cvr, normalise_phone


def register_employer(cmd: RegisterEmployer, *, uow: UnitOfWork, actor: Actor) -> EmployerResult:
    cvr = normalise_cvr(cmd.cvr)
    phone = normalise_phone(cmd.phone) if cmd.phone else None
    if uow.session.scalar(select(Employer.id).where(Employer.cvr == cvr)) is not None:
        raise EmployerExists(cvr=cvr)
    employer = Employer(cvr=cvr, name=cmd.name.strip(), contact_person=cmd.contact_person.strip(),
                        verified=False, created_at=uow.now)
    uow.session.add(employer)
    uow.session.flush()
    for kind, address in (("phone", phone), ("telegram", cmd.telegram_id)):
        if address:
            uow.session.execute(insert(EmployerContact).values(
                employer_id=employer.id, kind=kind, address=address, created_at=uow.now))
    uow.audit(actor, "employer.register", "employer", cvr)
    result = employer_result(employer)
    uow.commit()
    return result


def verify_employer(cmd: VerifyEmployer, *, uow: UnitOfWork, actor: Actor) -> EmployerResult:
    """Marks the employer as checked; verifying twice is harmless and changes nothing."""
    employer = employer_by_cvr(uow.session, cmd.cvr)
    if not employer.verified:
        employer.verified = True
        employer.verified_at = uow.now
        uow.audit(actor, "employer.verify", "employer", employer.cvr)
    result = employer_result(employer)
    uow.commit()
    return result


def employer_result(employer: Employer) -> EmployerResult:
    return EmployerResult(cvr=employer.cvr, name=employer.name, verified=employer.verified,
                          contact_person=employer.contact_person)
