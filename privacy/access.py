"""An access request: everything stored about one person, as plain JSON-ready values
(their small-job data: privacy/tasks.py).

The CPR number itself appears only masked (birth date, "xxxx"); encrypted values, lookup
hashes, link-code hashes and a conversation's sealed state are never part of an export (the
state is shown as the names of its fields only). Texts are exported as stored: CPR numbers in
messages were already redacted when they arrived.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from danish.money import format_kroner
from db.console_tables import EscalationNote
from db.conversation_tables import (
    Escalation,
    LinkAttempts,
    LinkCode,
    OutboxMessage,
    TranscriptMessage,
)
from db.outreach_tables import OutreachMessage, OutreachPause
from db.tables import (
    AuditRecord,
    Card,
    CardBalance,
    CardEvent,
    Employer,
    Employment,
    LedgerEntry,
    Municipality,
    WageReport,
)
from db.vault import mask_cpr
from privacy.scope import PersonScope
from privacy.tasks import export_tasks, task_audit_conditions

FORMAT_VERSION = 1


def _value(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _row(row: object, *columns: str) -> dict[str, Any]:
    return {name: _value(getattr(row, name)) for name in columns}


def _json(text: str | None, default: object) -> object:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def export_person(session: Session, scope: PersonScope, now: dt.datetime) -> dict[str, Any]:
    """The whole record of one person, in a stable order (ids ascending)."""
    cards = scope.cards
    card_ids = scope.card_ids
    reports = _reports(session, card_ids)
    employments = _employments(session, card_ids)
    conversations = _conversations(session, scope)
    escalation_ids = [e["id"] for c in conversations for e in c["escalations"]]
    tasks = export_tasks(session, scope)
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": now.isoformat(),
        "cpr": mask_cpr(scope.cpr) if scope.cpr else None,
        "citizen": _citizen(session, scope),
        "contacts": [_row(c, "kind", "address", "created_at") for c in scope.contacts],
        "cards": [_card(session, card) for card in cards],
        "employments": employments,
        "wage_reports": reports,
        "balances": [
            _row(b, "year", "cap_ore", "posted_ore", "pending_ore", "over_cap_ore", "awaiting_ore")
            | {"card_number": _number(cards, b.card_id)}
            for b in session.scalars(select(CardBalance).where(CardBalance.card_id.in_(card_ids))
                                     .order_by(CardBalance.card_id, CardBalance.year))],
        "applications": [_application(a, scope, cards) for a in scope.applications],
        "conversations": conversations,
        "outbox": _outbox(session, scope),
        "outreach": outreach_rows(session, scope.card_ids, [c.id for c in scope.conversations]),
        "link_attempts": [
            _row(a, "channel", "address", "failures", "locked_until")
            for a in session.scalars(select(LinkAttempts).where(
                _pairs(LinkAttempts.channel, LinkAttempts.address, scope.addresses)))],
        **tasks,
        "audit_log": _audit(session, scope, [r["id"] for r in reports],
                            [e["id"] for e in employments], escalation_ids,
                            [a["id"] for a in tasks["task_assignments"]]),
    }


def _number(cards: list[Card], card_id: int) -> str | None:
    return next((card.number for card in cards if card.id == card_id), None)


def _citizen(session: Session, scope: PersonScope) -> dict[str, Any] | None:
    citizen = scope.citizen
    if citizen is None:
        return None
    place = session.get(Municipality, citizen.municipality_code)
    return _row(citizen, "name", "language", "municipality_code", "created_at") | {
        "municipality": place.name if place else None}


def _card(session: Session, card: Card) -> dict[str, Any]:
    events = session.scalars(select(CardEvent).where(CardEvent.card_id == card.id)
                             .order_by(CardEvent.id))
    link = session.get(LinkCode, card.id)
    return _row(card, "number", "status", "valid_from", "issued_on", "municipality_code",
                "last_control_on") | {
        "link_code_issued_at": _value(link.created_at) if link else None,
        "events": [_row(e, "kind", "effective_on", "reason", "municipality_code", "actor",
                        "created_at") for e in events],
    }


def _employments(session: Session, card_ids: list[int]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Employment, Employer.cvr, Employer.name)
        .join(Employer, Employer.id == Employment.employer_id)
        .where(Employment.card_id.in_(card_ids)).order_by(Employment.id)).all()
    return [_row(e, "id", "start_date", "end_date", "contract_required", "created_at") | {
        "employer_cvr": cvr, "employer_name": name,
        "weekly_hours": f"{e.weekly_hours_centi / 100:.2f}"} for e, cvr, name in rows]


def _reports(session: Session, card_ids: list[int]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(WageReport, Employer.cvr, Employer.name)
        .join(Employer, Employer.id == WageReport.employer_id)
        .where(WageReport.card_id.in_(card_ids)).order_by(WageReport.id)).all()
    entries: dict[int, list[dict[str, Any]]] = {}
    for entry in session.scalars(select(LedgerEntry).where(LedgerEntry.card_id.in_(card_ids))
                                 .order_by(LedgerEntry.id)):
        entries.setdefault(entry.report_id, []).append(_row(
            entry, "kind", "counted_ore", "over_cap_ore", "reason", "actor", "created_at"))
    return [_row(r, "id", "year", "paid_on", "work_from", "work_to", "amount_ore",
                 "source_channel", "actor", "created_at") | {
        "employer_cvr": cvr, "employer_name": name, "amount": format_kroner(r.amount_ore),
        "hours": f"{r.hours_centi / 100:.2f}", "entries": entries.get(r.id, [])}
        for r, cvr, name in rows]


def _application(application: Any, scope: PersonScope, cards: list[Card]) -> dict[str, Any]:
    has_cpr = application.cpr_hash is not None
    return _row(application, "id", "name", "municipality_code", "postcode", "status",
                "decision_reason", "created_at", "decided_at", "decided_by") | {
        "cpr": mask_cpr(scope.cpr) if has_cpr and scope.cpr else None,
        "answers": _json(application.answers_json, {}),
        "card_number": _number(cards, application.card_id) if application.card_id else None,
    }


def outreach_rows(session: Session, card_ids: list[int], conversation_ids: list[int]
                  ) -> dict[str, Any]:
    """The messages we wrote first (or chose not to, and why), and INGEN PÅMINDELSER."""
    keys = [f"card:{i}" for i in card_ids] + [f"conv:{i}" for i in conversation_ids]
    messages: list[OutreachMessage] = list(session.scalars(select(OutreachMessage).where(
        OutreachMessage.person_key.in_(keys)).order_by(OutreachMessage.id))) if keys else []
    paused: list[int] = list(session.scalars(select(OutreachPause.conversation_id).where(
        OutreachPause.conversation_id.in_(conversation_ids)))) if conversation_ids else []
    return {"messages": [_row(m, "id", "rule", "occasion", "status", "reason", "channel",
                              "outbox_id", "created_at") for m in messages],
            "reminders_off_in_conversations": sorted(paused)}


def _pairs(channel_col: ColumnElement[Any] | InstrumentedAttribute[Any],
           address_col: ColumnElement[Any] | InstrumentedAttribute[Any],
           pairs: Iterable[tuple[str, str]]) -> ColumnElement[bool]:
    conditions = [and_(channel_col == channel, address_col == address)
                  for channel, address in sorted(pairs)]
    return or_(*conditions) if conditions else false()


def _conversations(session: Session, scope: PersonScope) -> list[dict[str, Any]]:
    found = []
    for conversation in scope.conversations:
        messages = session.scalars(
            select(TranscriptMessage).where(TranscriptMessage.conversation_id == conversation.id)
            .order_by(TranscriptMessage.id))
        escalations = list(session.scalars(
            select(Escalation).where(Escalation.conversation_id == conversation.id)
            .order_by(Escalation.id)))
        state = _json(conversation.state_json, {})
        found.append(_row(conversation, "id", "channel", "address", "handoff", "opted_out",
                          "municipality_code", "created_at", "last_activity_at") | {
            "state_fields": sorted(state) if isinstance(state, dict) else [],
            "messages": [_row(m, "direction", "author", "text", "intent", "created_at",
                              "processed_at") for m in messages],
            "escalations": [_row(e, "id", "urgent", "reason", "status", "owner", "created_at",
                                 "taken_at", "resolved_at", "outcome")
                            | {"notes": _notes(session, e.id)} for e in escalations],
        })
    return found


def _notes(session: Session, escalation_id: int) -> list[dict[str, Any]]:
    """Caseworkers' internal notes on the escalation (never sent to the person)."""
    notes = session.scalars(select(EscalationNote).where(
        EscalationNote.escalation_id == escalation_id).order_by(EscalationNote.id))
    return [_row(n, "author", "text", "created_at") for n in notes]


def _outbox(session: Session, scope: PersonScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(OutboxMessage).where(
        _pairs(OutboxMessage.channel, OutboxMessage.recipient, scope.addresses))
        .order_by(OutboxMessage.id))
    return [_row(m, "id", "channel", "recipient", "text", "status", "attempts", "created_at",
                 "sent_at") for m in rows]


def _audit(session: Session, scope: PersonScope, report_ids: list[int],
           employment_ids: list[int], escalation_ids: list[int],
           assignment_ids: list[int]) -> list[dict[str, Any]]:
    """Audit rows whose subject is one of this person's records (or that name their card)."""
    subjects = {
        "card": [card.number for card in scope.cards],
        "wage_report": [str(i) for i in report_ids],
        "employment": [str(i) for i in employment_ids],
        "application": [str(a.id) for a in scope.applications],
        "escalation": [str(i) for i in escalation_ids],
        "citizen": [str(scope.citizen.id)] if scope.citizen else [],
        "outreach": [str(m["id"]) for m in outreach_rows(
            session, scope.card_ids, [c.id for c in scope.conversations])["messages"]],
    }
    conditions = [and_(AuditRecord.entity_type == kind, AuditRecord.entity_id.in_(ids))
                  for kind, ids in subjects.items() if ids]
    conditions += task_audit_conditions(session, scope, assignment_ids)
    if not conditions:
        return []
    rows = session.scalars(select(AuditRecord).where(or_(*conditions)).order_by(AuditRecord.id))
    return [_row(r, "at", "actor", "channel", "action", "entity_type", "entity_id")
            | {"details": _json(r.details_json, {})} for r in rows]
