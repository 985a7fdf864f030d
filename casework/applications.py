"""Card applications taken by the bot: the queue, one application, approve, reject.

Approving issues the card through the existing `IssueCard` service (which also makes the
link code), links the phone or Telegram id the applicant wrote from, and queues the grant
message to them: all in one transaction under the application's row lock, so a second click
finds the application decided (`ApplicationDecided`) and never issues a second card.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import texts
from casework.errors import (
    ApplicationDecided,
    ApplicationNeedsCpr,
    ApplicationNeedsMunicipality,
    ApplicationNotFound,
    ReasonRequired,
)
from casework.records import ApplicationDecision, ApplicationDetail, ApplicationItem
from conversations import outbox, store
from db.conversation_tables import CardApplication, Conversation
from db.errors import InvalidInput
from db.reference_data import municipality_names
from db.tables import Card, CitizenContact
from db.unit_of_work import UnitOfWork
from db.vault import mask_cpr, normalise_cpr
from ledger.commands import IssueCard
from ledger.service import cards
from ledger.service.contacts import link_contact
from staff.access import require_role
from staff.principal import StaffPrincipal
from staff.redaction import REASON_MAX, clean_text, mask_address

STATUSES = ("received", "approved", "rejected")


def processing_seconds(uow: UnitOfWork, application: CardApplication) -> int:
    end = application.decided_at or uow.now
    return max(int((end - application.created_at).total_seconds()), 0)


def applications(
    uow: UnitOfWork, principal: StaffPrincipal, status: str | None
) -> list[ApplicationItem]:
    """Open ones first (oldest first: they have waited longest), then decided ones, newest
    decision first."""
    require_role(principal)
    if status is not None and status not in STATUSES:
        raise InvalidInput("unknown application status")
    stmt = select(CardApplication, Conversation.channel).outerjoin(
        Conversation, Conversation.id == CardApplication.conversation_id)
    if not principal.is_admin:
        stmt = stmt.where(CardApplication.municipality_code == principal.municipality_code)
    if status is not None:
        stmt = stmt.where(CardApplication.status == status)
    rows = uow.session.execute(stmt.order_by(CardApplication.id)).all()
    open_ = [(a, c) for a, c in rows if a.status == "received"]
    decided = sorted(((a, c) for a, c in rows if a.status != "received"),
                     key=lambda row: (row[0].decided_at, row[0].id), reverse=True)
    return [ApplicationItem(
        id=a.id, name=a.name, status=a.status, municipality_code=a.municipality_code,
        channel=channel, received_at=a.created_at, decided_at=a.decided_at,
        processing_seconds=processing_seconds(uow, a), has_cpr=a.cpr_encrypted is not None,
    ) for a, channel in [*open_, *decided]]


def get_in_scope(
    session: Session, principal: StaffPrincipal, application_id: int, *, lock: bool = False
) -> CardApplication:
    """The application, or ApplicationNotFound when missing or outside the user's scope."""
    found = session.get(CardApplication, application_id, with_for_update=lock or None,
                        populate_existing=lock)
    if found is None or not principal.sees(found.municipality_code):
        raise ApplicationNotFound(id=application_id)
    return found


def application(
    uow: UnitOfWork, principal: StaffPrincipal, application_id: int
) -> ApplicationDetail:
    require_role(principal)
    session = uow.session
    found = get_in_scope(session, principal, application_id)
    answers: dict[str, Any] = json.loads(found.answers_json or "{}")
    cpr = uow.vault.decrypt(found.cpr_encrypted) if found.cpr_encrypted else None
    conversation = _conversation(session, found)
    channel = conversation.channel if conversation else answers.get("channel")
    address = conversation.address if conversation else answers.get("address")
    card_number = (session.scalar(select(Card.number).where(Card.id == found.card_id))
                   if found.card_id else None)
    consent = answers.get("consent")
    return ApplicationDetail(
        id=found.id, name=found.name, status=found.status,
        cpr_masked=mask_cpr(cpr) if cpr else None, cpr_later=cpr is None,
        municipality_code=found.municipality_code,
        municipality_name=municipality_names().get(found.municipality_code or ""),
        postcode=found.postcode, benefit=_text(answers.get("benefit")),
        consent=consent if isinstance(consent, bool) else None,
        job_wishes=tuple(str(w) for w in answers.get("job_wishes") or ()),
        contact_preference=_text(answers.get("contact")), helper=_text(answers.get("helper")),
        channel=channel, address=address,
        address_masked=mask_address(channel, address) if channel and address else None,
        conversation_id=found.conversation_id, received_at=found.created_at,
        decided_at=found.decided_at, decided_by=found.decided_by,
        decision_reason=found.decision_reason, processing_seconds=processing_seconds(uow, found),
        card_number=card_number)


def mark_opened(uow: UnitOfWork, principal: StaffPrincipal, application_id: int) -> bool:
    """The first opening of an undecided application, kept for the outreach rule
    `application_in_review` ("en sagsbehandler kigger på den nu")."""
    require_role(principal)
    found = get_in_scope(uow.session, principal, application_id, lock=True)
    if found.status != "received" or found.opened_at is not None:
        return False
    found.opened_at = uow.now
    uow.audit(principal.actor, "application.open", "application", found.id)
    uow.commit()
    return True


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _conversation(session: Session, found: CardApplication) -> Conversation | None:
    if found.conversation_id is None:
        return None
    return session.get(Conversation, found.conversation_id)


def _open_for_decision(
    uow: UnitOfWork, principal: StaffPrincipal, application_id: int
) -> CardApplication:
    require_role(principal)
    found = get_in_scope(uow.session, principal, application_id, lock=True)
    if found.status != "received":
        raise ApplicationDecided(id=application_id)
    return found


def approve(
    uow: UnitOfWork, principal: StaffPrincipal, application_id: int, *,
    valid_from: dt.date | None, cpr: str | None, municipality_code: str | None,
) -> ApplicationDecision:
    """Issues the card and tells the applicant. `cpr` is for an application without one (the
    applicant said "later"); `municipality_code` for one filed under no municipality (only an
    administrator can see those)."""
    found = _open_for_decision(uow, principal, application_id)
    cpr_value = normalise_cpr(cpr) if cpr else (
        uow.vault.decrypt(found.cpr_encrypted) if found.cpr_encrypted else None)
    if cpr_value is None:
        raise ApplicationNeedsCpr(id=application_id)
    code = found.municipality_code or municipality_code
    if code is None:
        raise ApplicationNeedsMunicipality(id=application_id)
    start = valid_from or uow.today
    with uow.nested() as nested:
        issued = cards.issue_card(
            IssueCard(cpr=cpr_value, name=found.name, municipality_code=code, valid_from=start),
            uow=nested, actor=principal.actor)
    card = uow.session.scalars(select(Card).where(Card.number == issued.number)).one()
    conversation = _conversation(uow.session, found)
    linked = _link_applicant(uow, card, conversation)
    assert issued.link_code is not None
    found.status, found.card_id, found.municipality_code = "approved", card.id, code
    if cpr and found.cpr_encrypted is None:
        found.cpr_encrypted = uow.vault.encrypt(cpr_value)
        found.cpr_hash = uow.vault.lookup_hash(cpr_value)
    _decided(uow, principal, found)
    message = texts.grant(found.name, card.number, issued.link_code, start, linked=linked)
    shown = texts.grant(found.name, card.number, texts.text("code_hidden"), start, linked=linked)
    outbox_id = _tell(uow, conversation, message, shown, principal)
    uow.audit(principal.actor, "application.approve", "application", found.id,
              card=card.number, contact_linked=linked, message_queued=outbox_id is not None,
              cpr_given_by_caseworker=bool(cpr))
    uow.commit()
    return ApplicationDecision(
        application_id=found.id, status="approved", card_number=card.number,
        link_code=issued.link_code, valid_from=start, contact_linked=linked,
        message_queued=outbox_id is not None, outbox_id=outbox_id)


def reject(
    uow: UnitOfWork, principal: StaffPrincipal, application_id: int, reason: str
) -> ApplicationDecision:
    """Refuses with a reason, which the applicant gets in a plain message."""
    because = clean_text(reason, REASON_MAX, missing=ReasonRequired)
    found = _open_for_decision(uow, principal, application_id)
    found.status, found.decision_reason = "rejected", because
    _decided(uow, principal, found)
    message = texts.rejection(found.name, found.id, found.municipality_code, because)
    outbox_id = _tell(uow, _conversation(uow.session, found), message, message, principal)
    uow.audit(principal.actor, "application.reject", "application", found.id,
              message_queued=outbox_id is not None)
    uow.commit()
    return ApplicationDecision(
        application_id=found.id, status="rejected", card_number=None, link_code=None,
        valid_from=None, contact_linked=False, message_queued=outbox_id is not None,
        outbox_id=outbox_id)


def _decided(uow: UnitOfWork, principal: StaffPrincipal, found: CardApplication) -> None:
    found.decided_at = uow.now
    found.decided_by = principal.actor.name


def _link_applicant(uow: UnitOfWork, card: Card, conversation: Conversation | None) -> bool:
    """Links the address the applicant wrote from, unless another citizen already holds it
    (a helper's phone, say): then the grant message tells them how to link with the code."""
    if conversation is None:
        return False
    kind = store.contact_kind(conversation.channel)
    holder = uow.session.scalar(select(CitizenContact.citizen_id).where(
        CitizenContact.kind == kind, CitizenContact.address == conversation.address))
    if holder is not None and holder != card.citizen_id:
        return False
    link_contact(uow.session, card.citizen_id, kind, conversation.address, uow.now)
    conversation.municipality_code = card.municipality_code
    return True


def _tell(
    uow: UnitOfWork, conversation: Conversation | None, message: str, shown: str,
    principal: StaffPrincipal,
) -> int | None:
    """Queues `message` on the applicant's channel and keeps `shown` (the message without
    secrets) in the transcript. Nothing is sent to someone who wrote STOP."""
    if conversation is None or conversation.opted_out:
        return None
    outbox_id = outbox.enqueue(uow.session, channel=conversation.channel,
                               recipient=conversation.address, text=message, buttons=(),
                               now=uow.now, conversation_id=conversation.id)
    store.record_outbound(uow.session, conversation, shown, principal.actor.name, uow.now,
                          outbox_id)
    return outbox_id
