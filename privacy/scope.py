"""Who a person is in the database: found by CPR number, through every table that links to them.

A person is a citizen (a card holder, found by the CPR lookup hash) and/or an applicant (an
application carries the same hash when a CPR number was given). Their conversations are those
held with their linked phone numbers and Telegram ids, and those their applications came from.
A conversation held from a number that was never linked to a CPR number cannot be found this
way; `frikort citizen export --phone` finds it by the number instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from conversations.outbox import ERASED
from conversations.store import channels_of_kind
from db.conversation_tables import CardApplication, Conversation
from db.tables import Card, Citizen, CitizenContact
from db.vault import CprVault, normalise_cpr
from ledger.service.lookups import normalise_phone


@dataclass
class PersonScope:
    cpr: str | None
    citizen: Citizen | None = None
    cards: list[Card] = field(default_factory=list)
    contacts: list[CitizenContact] = field(default_factory=list)
    applications: list[CardApplication] = field(default_factory=list)
    addresses: set[tuple[str, str]] = field(default_factory=set)
    """(channel, address) pairs the person wrote from or was written to."""
    conversations: list[Conversation] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.citizen or self.applications or self.conversations)

    @property
    def card_ids(self) -> list[int]:
        return [card.id for card in self.cards]

    @property
    def has_active_card(self) -> bool:
        return any(card.status == "active" for card in self.cards)


def scope_by_cpr(
    session: Session, vault: CprVault, raw_cpr: str, *, lock: bool = False
) -> PersonScope:
    """Everything linked to this CPR number (InvalidCpr when it is not one)."""
    cpr = normalise_cpr(raw_cpr)
    lookup = vault.lookup_hash(cpr)
    scope = PersonScope(cpr=cpr)
    citizen_stmt = select(Citizen).where(Citizen.cpr_hash == lookup)
    scope.citizen = session.scalar(citizen_stmt.with_for_update() if lock else citizen_stmt)
    if scope.citizen is not None:
        scope.cards = list(session.scalars(
            select(Card).where(Card.citizen_id == scope.citizen.id).order_by(Card.id)))
        scope.contacts = list(session.scalars(
            select(CitizenContact).where(CitizenContact.citizen_id == scope.citizen.id)
            .order_by(CitizenContact.id)))
    conditions = [CardApplication.cpr_hash == lookup]
    if scope.cards:
        conditions.append(CardApplication.card_id.in_(scope.card_ids))
    scope.applications = list(session.scalars(
        select(CardApplication).where(or_(*conditions)).order_by(CardApplication.id)))
    for contact in scope.contacts:
        scope.addresses.update((channel, contact.address)
                               for channel in channels_of_kind(contact.kind))
    _add_application_addresses(scope)
    _load_conversations(session, scope)
    _add_conversation_applications(session, scope)
    return scope


def scope_by_phone(session: Session, raw_phone: str) -> PersonScope:
    """The conversations and messages of one phone number (no CPR number known)."""
    phone = normalise_phone(raw_phone)
    scope = PersonScope(cpr=None)
    scope.addresses.update((channel, phone) for channel in channels_of_kind("phone"))
    _load_conversations(session, scope)
    _add_conversation_applications(session, scope)
    return scope


def _add_conversation_applications(session: Session, scope: PersonScope) -> None:
    """Applications sent from the person's conversations (also those without a CPR number)."""
    ids = [c.id for c in scope.conversations]
    if not ids:
        return
    known = {a.id for a in scope.applications}
    found = session.scalars(select(CardApplication).where(
        CardApplication.conversation_id.in_(ids)).order_by(CardApplication.id))
    scope.applications += [a for a in found if a.id not in known]
    scope.applications.sort(key=lambda a: a.id)


def _add_application_addresses(scope: PersonScope) -> None:
    for application in scope.applications:
        answers = _answers(application)
        channel, address = answers.get("channel"), answers.get("address")
        if isinstance(channel, str) and isinstance(address, str) and address != ERASED:
            scope.addresses.add((channel, address))


def _load_conversations(session: Session, scope: PersonScope) -> None:
    conditions = []
    if scope.addresses:
        conditions.append(tuple_(Conversation.channel, Conversation.address).in_(
            sorted(scope.addresses)))
    linked = [a.conversation_id for a in scope.applications if a.conversation_id is not None]
    if linked:
        conditions.append(Conversation.id.in_(linked))
    if not conditions:
        return
    scope.conversations = list(session.scalars(
        select(Conversation).where(or_(*conditions)).order_by(Conversation.id)))
    scope.addresses.update((c.channel, c.address) for c in scope.conversations
                           if not c.address.startswith(ERASED))


def _answers(application: CardApplication) -> dict[str, object]:
    try:
        answers = json.loads(application.answers_json or "{}")
    except ValueError:
        return {}
    return answers if isinstance(answers, dict) else {}
