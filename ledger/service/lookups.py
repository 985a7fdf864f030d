"""Finding rows by their public identifiers, or raising the matching typed error."""

from __future__ import annotations

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.dk import cvr as stdnum_cvr
from stdnum.exceptions import ValidationError

from db.tables import CapVersion, Card, Employer, Municipality
from ledger.errors import (
    CardNotFound,
    EmployerNotFound,
    InvalidCvr,
    InvalidPhone,
    MunicipalityNotFound,
)


def normalise_cvr(raw: str) -> str:
    try:
        return str(stdnum_cvr.validate(raw))
    except ValidationError as exc:
        raise InvalidCvr("not a valid CVR number") from exc


def normalise_phone(raw: str) -> str:
    """E.164, reading numbers without a country code as Danish."""
    try:
        parsed = phonenumbers.parse(raw, "DK")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("unparseable") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def card_by_number(session: Session, number: str) -> Card:
    card = session.scalar(select(Card).where(Card.number == number.strip()))
    if card is None:
        raise CardNotFound(number=number)
    return card


def employer_by_cvr(session: Session, cvr: str) -> Employer:
    employer = session.scalar(select(Employer).where(Employer.cvr == normalise_cvr(cvr)))
    if employer is None:
        raise EmployerNotFound(cvr=cvr)
    return employer


def municipality(session: Session, code: str) -> Municipality:
    found = session.get(Municipality, code)
    if found is None:
        raise MunicipalityNotFound(code=code)
    return found


def cap_in_force(session: Session, year: int) -> CapVersion | None:
    """The newest cap set for a year, or None while no source has been loaded for it."""
    return session.scalar(
        select(CapVersion)
        .where(CapVersion.year == year)
        .order_by(CapVersion.id.desc())
        .limit(1)
    )
