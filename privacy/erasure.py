"""Erasure on request: what may go is anonymised or deleted; what the books need is kept.

Erased (one transaction; a dry run does the same work and rolls it back):

* the texts of every message in the person's conversations, their replies and flow state;
  the conversations' addresses are replaced, so the phone number or Telegram id goes too;
* messages queued or sent to the person's addresses (text, buttons, recipient); those not yet
  delivered are given up;
* their phone numbers and Telegram ids (the contacts), and failed link attempts from them;
* open escalations of those conversations are closed (there is nobody left to answer);
* the free-text answers of decided applications;
* the name, on the citizen and on decided applications, unless a card is still active;
* small jobs (privacy/tasks.py): places that ended without pay, the employers' own
  lists and the helpers' phone lists the person is on, their digest opt-in; the consent
  notes on places paid through a wage report.

Kept, and said so in the report: wage reports, ledger entries, balances, cards and card
events, employments and the audit log (the record of income under the frikort, append-only),
the encrypted CPR number that ties them to the person, escalations and caseworkers' notes (the
municipality's case record), undecided applications, the name while a card is active,
places paid through a wage report, and places still held (reported, like an undecided
application: settle them first).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.commands import Actor
from db.conversation_tables import Escalation, LinkAttempts, OutboxMessage, TranscriptMessage
from db.tables import Card, CitizenContact
from db.unit_of_work import UnitOfWork
from privacy.retention import EMPTY_REPLIES, anonymised_answers
from privacy.scope import ERASED, PersonScope
from privacy.tasks import erase_tasks


@dataclass
class ErasureReport:
    found: bool
    dry_run: bool
    transcript_messages: int = 0
    conversations: int = 0
    outbox_messages: int = 0
    contacts: int = 0
    link_attempts: int = 0
    escalations_closed: int = 0
    applications: int = 0
    names: int = 0
    task_places: int = 0
    task_consent_notes: int = 0
    employer_lists: int = 0
    job_digests: int = 0
    phone_list_entries: int = 0
    kept: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def erase_person(uow: UnitOfWork, scope: PersonScope, *, actor: Actor,
                 dry_run: bool) -> ErasureReport:
    """Erases within `uow`; commits unless `dry_run` (then the caller's exit rolls it back)."""
    report = ErasureReport(found=scope.found, dry_run=dry_run)
    if not scope.found:
        return report
    session = uow.session
    conversation_ids = [c.id for c in scope.conversations]
    _erase_conversations(session, scope, conversation_ids, report, uow)
    _erase_outbox(session, scope, conversation_ids, report)
    if scope.addresses:
        report.link_attempts = _rowcount(session.execute(delete(LinkAttempts).where(
            _pairs(LinkAttempts.channel, LinkAttempts.address, scope.addresses))))
    if scope.citizen is not None:
        report.contacts = _rowcount(session.execute(delete(CitizenContact).where(
            CitizenContact.citizen_id == scope.citizen.id)))
    _erase_applications(session, scope, report)
    _erase_name(scope, report)
    tasks = erase_tasks(uow, scope, report.kept)
    for name, count in asdict(tasks).items():
        setattr(report, name, count)
    _note_what_is_kept(session, scope, conversation_ids, report)
    if not dry_run:
        counts = {k: v for k, v in report.as_dict().items()
                  if isinstance(v, int) and not isinstance(v, bool)}
        entity, entity_id = _subject(scope)
        uow.audit(actor, "person.erase", entity, entity_id, **counts)
        uow.commit()
    return report


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _pairs(channel_col: ColumnElement[Any] | InstrumentedAttribute[Any],
           address_col: ColumnElement[Any] | InstrumentedAttribute[Any],
           pairs: Iterable[tuple[str, str]]) -> ColumnElement[bool]:
    return or_(*[and_(channel_col == channel, address_col == address)
                 for channel, address in sorted(pairs)])


def _subject(scope: PersonScope) -> tuple[str, object]:
    if scope.citizen is not None:
        return "citizen", scope.citizen.id
    if scope.applications:
        return "application", scope.applications[0].id
    return "conversation", scope.conversations[0].id


def _erase_conversations(session: Session, scope: PersonScope, ids: list[int],
                         report: ErasureReport, uow: UnitOfWork) -> None:
    if not ids:
        return
    report.transcript_messages = _rowcount(session.execute(
        update(TranscriptMessage)
        .where(TranscriptMessage.conversation_id.in_(ids), or_(
            TranscriptMessage.text != ERASED,
            and_(TranscriptMessage.replies_json.is_not(None),
                 TranscriptMessage.replies_json != EMPTY_REPLIES)))
        .values(text=ERASED, replies_json=None),
        execution_options={"synchronize_session": False}))
    report.escalations_closed = _rowcount(session.execute(
        update(Escalation)
        .where(Escalation.conversation_id.in_(ids), Escalation.status != "resolved")
        .values(status="resolved", resolved_at=uow.now, outcome="erased"),
        execution_options={"synchronize_session": False}))
    for conversation in scope.conversations:
        if conversation.address.startswith(ERASED) and conversation.state_json == "{}":
            continue
        conversation.address = f"{ERASED}{conversation.id}"
        conversation.state_json = "{}"
        conversation.handoff = "bot"
        report.conversations += 1
    session.flush()


def _erase_outbox(session: Session, scope: PersonScope, conversation_ids: list[int],
                  report: ErasureReport) -> None:
    conditions = []
    if scope.addresses:
        conditions.append(_pairs(OutboxMessage.channel, OutboxMessage.recipient,
                                 scope.addresses))
    if conversation_ids:
        conditions.append(OutboxMessage.conversation_id.in_(conversation_ids))
    if not conditions:
        return
    rows = list(session.scalars(select(OutboxMessage).where(or_(*conditions))
                                .with_for_update()))
    for message in rows:
        if message.status == "pending":
            message.status = "dead"
            message.last_error = "erased on request"
        elif message.text == ERASED and message.recipient == ERASED:
            continue
        else:
            message.last_error = ""
        message.text = ERASED
        message.recipient = ERASED
        message.buttons_json = EMPTY_REPLIES
        report.outbox_messages += 1
    session.flush()


def _erase_applications(session: Session, scope: PersonScope, report: ErasureReport) -> None:
    for application in scope.applications:
        if application.status == "received":
            report.kept.append(f"application {application.id}: not decided yet, kept whole; "
                               "decide it first, then erase again")
            continue
        answers = json.loads(application.answers_json or "{}")
        erased = json.dumps(anonymised_answers(answers if isinstance(answers, dict) else {}),
                            ensure_ascii=False)
        changed = erased != application.answers_json
        card = session.get(Card, application.card_id) if application.card_id else None
        keep_name = scope.has_active_card or (card is not None and card.status == "active")
        if not keep_name and application.name != ERASED:
            application.name = ERASED
            changed = True
        if not keep_name and application.postcode is not None:
            application.postcode = None
            changed = True
        application.answers_json = erased
        report.applications += int(changed)


def _erase_name(scope: PersonScope, report: ErasureReport) -> None:
    citizen = scope.citizen
    if citizen is None:
        return
    if scope.has_active_card:
        active = ", ".join(c.number for c in scope.cards if c.status == "active")
        report.kept.append(f"name: kept while card {active} is active")
        return
    if citizen.name != ERASED:
        citizen.name = ERASED
        report.names += 1


def _note_what_is_kept(session: Session, scope: PersonScope, conversation_ids: list[int],
                       report: ErasureReport) -> None:
    if scope.cards:
        numbers = ", ".join(card.number for card in scope.cards)
        report.kept.append(
            f"card {numbers} with its events, employments, wage reports, ledger entries and "
            "balances: the record of income under the frikort")
    if scope.citizen is not None or any(a.cpr_hash for a in scope.applications):
        report.kept.append("the CPR number, encrypted, and its lookup hash: they tie the kept "
                           "records to the person")
    escalations = session.scalar(select(Escalation.id).where(
        Escalation.conversation_id.in_(conversation_ids)).limit(1)) if conversation_ids else None
    if escalations is not None:
        report.kept.append("escalations and caseworkers' notes: the municipality's case record")
    report.kept.append("the audit log (append-only)")
