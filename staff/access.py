"""Who may do what in the console, and which rows they may see.

Roles: a caseworker and an administrator may act on cards, applications and escalations; an
employer consultant may view and verify employers, see the overview and handle escalated
conversations (employers write in too), but not decide applications, change cards or post
and reverse reports (`NotAllowedForRole`, checked before anything is looked up). Everyone but
an administrator sees their own municipality only; a row outside it raises the same NotFound
as a missing one, so guessing ids reveals nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from conversations.store import contact_kind
from db.conversation_tables import Conversation
from db.tables import Card, CitizenContact
from staff.errors import NotAllowedForRole
from staff.principal import Role, StaffPrincipal

CASE_ROLES: tuple[Role, ...] = ("caseworker", "admin")
"""May decide applications, change cards and post or reverse reports."""


def require_role(principal: StaffPrincipal, roles: tuple[Role, ...] = CASE_ROLES) -> None:
    if principal.role not in roles:
        raise NotAllowedForRole(role=principal.role)


def in_scope(principal: StaffPrincipal,
             column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """A WHERE clause: the row's municipality is the user's own (always true for admins)."""
    if principal.is_admin:
        return true()
    return column == principal.municipality_code


def conversation_home() -> ColumnElement[str | None]:
    """A conversation's municipality, as SQL: the handlekommune of the card holder the sender is
    linked to, else the municipality the bot filed it under (an application's, say).

    The card wins because it follows the citizen when the card is transferred.
    """
    kind = case((Conversation.channel == "telegram", "telegram"), else_="phone")
    holder = (
        select(Card.municipality_code)
        .join(CitizenContact, CitizenContact.citizen_id == Card.citizen_id)
        .where(CitizenContact.kind == kind, CitizenContact.address == Conversation.address)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(holder, Conversation.municipality_code)


def home_of(session: Session, conversation: Conversation) -> str | None:
    """`conversation_home` for one conversation already loaded."""
    holder = session.scalar(
        select(Card.municipality_code)
        .join(CitizenContact, CitizenContact.citizen_id == Card.citizen_id)
        .where(CitizenContact.kind == contact_kind(conversation.channel),
               CitizenContact.address == conversation.address))
    return holder or conversation.municipality_code
