"""Sending one outreach candidate: read the consent facts, ask the policy, write the key, queue.

All in the caller's transaction, under a per-person lock (an advisory lock on PostgreSQL;
SQLite's BEGIN IMMEDIATE holds the whole database), so the weekly limit is counted with every
other worker's messages to that person already in or out. The key row (rule, person,
occasion) is inserted with ON CONFLICT DO NOTHING before anything is queued: whoever inserts
it sends, everyone else finds it taken and sends nothing.

Like `ledger.tasks.notify`, the message is not written into the person's conversation (no
transcript row, no outbox conversation id): that would wait for the row lock a turn of theirs
may hold.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from conversations import outbox
from conversations.store import channels_of_kind
from db.base import table_of
from db.commands import Actor
from db.conversation_tables import Conversation
from db.outreach_tables import OutreachMessage, OutreachPause
from db.tables import Card, CitizenContact
from db.unit_of_work import UnitOfWork
from outreach.store.records import Candidate, ConsentFacts, Outcome, Recipient, Refusal

SYSTEM = Actor(name="system:outreach", channel="system")
SENDING_CHANNELS = ("sms", "telegram")
"""Where a message can reach someone unasked; the web chat only answers."""
Decide = Callable[[Candidate, ConsentFacts], Refusal | None]
"""The consent policy: None to send, else why not (and whether to ask again later)."""
Render = Callable[[Candidate], str]
Measure = Callable[[str], int]
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def _lock_key(person_key: str) -> int:
    digest = hashlib.sha256(f"outreach:{person_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _conversations_of(session: Session, pairs: list[tuple[str, str]]) -> list[Conversation]:
    wanted = [(channel, address) for kind, address in pairs for channel in channels_of_kind(kind)]
    if not wanted:
        return []
    addresses = {address for _, address in wanted}
    rows = session.scalars(select(Conversation).where(Conversation.address.in_(addresses)))
    return [c for c in rows if (c.channel, c.address) in wanted]


def _paused(session: Session, conversation_ids: list[int]) -> bool:
    if not conversation_ids:
        return False
    return session.scalar(select(func.count()).select_from(OutreachPause).where(
        OutreachPause.conversation_id.in_(conversation_ids))) != 0


def _sent_last_week(session: Session, person_key: str, now: dt.datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(OutreachMessage).where(
        OutreachMessage.person_key == person_key, OutreachMessage.status == "queued",
        OutreachMessage.created_at > now - dt.timedelta(days=7))) or 0)


def consent_facts(session: Session, candidate: Candidate, now: dt.datetime) -> ConsentFacts:
    """Who the person is reachable as now, and what they said about being written to."""
    sent = _sent_last_week(session, candidate.person_key, now)
    if candidate.target == "conversation":
        found = session.get(Conversation, candidate.target_id)
        if found is None:
            return ConsentFacts(None, False, False, None, sent, now)
        recipient = (Recipient(found.channel, found.address, found.id)
                     if found.channel in SENDING_CHANNELS else None)
        return ConsentFacts(recipient, found.opted_out, _paused(session, [found.id]), None,
                            sent, now)
    card = session.get(Card, candidate.target_id)
    if card is None:
        return ConsentFacts(None, False, False, None, sent, now)
    contacts = [(str(kind), str(address)) for kind, address in session.execute(
        select(CitizenContact.kind, CitizenContact.address)
        .where(CitizenContact.citizen_id == card.citizen_id).order_by(CitizenContact.id))]
    conversations = _conversations_of(session, contacts)
    by_address = {(c.channel, c.address): c for c in conversations}
    options = []
    for kind, address in contacts:
        channel = "telegram" if kind == "telegram" else "sms"
        conversation = by_address.get((channel, address))
        last = conversation.last_activity_at if conversation else None
        options.append((last is not None, last or now, Recipient(
            channel, address, conversation.id if conversation else None)))
    # The channel the person last wrote on; else the first linked one (the phone, usually).
    options.sort(key=lambda option: (not option[0], -option[1].timestamp()))
    recipient = options[0][2] if options else None
    return ConsentFacts(recipient, any(c.opted_out for c in conversations),
                        _paused(session, [c.id for c in conversations]), card.status, sent, now)


def _taken(session: Session, candidate: Candidate) -> bool:
    return session.scalar(select(OutreachMessage.id).where(
        OutreachMessage.rule == candidate.rule,
        OutreachMessage.person_key == candidate.person_key,
        OutreachMessage.occasion == candidate.occasion)) is not None


def _claim(session: Session, values: dict[str, object]) -> int | None:
    """Inserts the key row and returns its id; None when it was already there (another
    worker, or an earlier sweep). On the Core table with RETURNING: an ORM-enabled insert
    reports a row count of 1 even when the conflict inserted nothing."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = table_of(OutreachMessage)
    stmt = insert(table).values(**values).on_conflict_do_nothing(
        index_elements=["rule", "person_key", "occasion"]).returning(table.c.id)
    found = session.execute(stmt).scalar_one_or_none()
    return None if found is None else int(found)


def deliver_one(uow: UnitOfWork, candidate: Candidate, *, decide: Decide, render: Render,
                measure: Measure, now: dt.datetime) -> Outcome:
    session = uow.session
    person = candidate.person_key
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK, {"key": _lock_key(person)})
    if _taken(session, candidate):  # another worker's sweep got here first: no more reads
        return Outcome(candidate.rule, candidate.occasion, person, "taken", "already handled",
                       None, None, "", 0)
    facts = consent_facts(session, candidate, now)
    refused = decide(candidate, facts)
    recipient = facts.recipient
    if refused is not None and refused.later:
        return Outcome(candidate.rule, candidate.occasion, person, "deferred", refused.reason,
                       recipient.channel if recipient else None,
                       recipient.address if recipient else None, "", 0)
    reason = refused.reason if refused is not None else None
    message = render(candidate) if reason is None else ""
    segments = measure(message) if message else 0
    row: dict[str, object] = {
        "rule": candidate.rule, "person_key": person, "occasion": candidate.occasion,
        "status": "queued" if reason is None else "skipped", "reason": reason or "",
        "channel": recipient.channel if recipient else None, "segments": segments,
        "conversation_id": recipient.conversation_id if recipient else None,
        "card_id": candidate.target_id if candidate.target == "card" else None,
        "created_at": now}
    key_id = _claim(session, row)
    if key_id is None:
        return Outcome(candidate.rule, candidate.occasion, person, "taken", "already handled",
                       None, None, "", 0)
    for covered in candidate.covers:
        _claim(session, {**row, "occasion": covered, "status": "skipped",
                         "reason": "covered", "segments": 0})
    if reason is not None or recipient is None:
        return Outcome(candidate.rule, candidate.occasion, person, "skipped", reason or "",
                       recipient.channel if recipient else None,
                       recipient.address if recipient else None, "", 0)
    outbox_id = outbox.enqueue(session, channel=recipient.channel, recipient=recipient.address,
                               text=message, buttons=(), now=now, conversation_id=None)
    session.execute(update(table_of(OutreachMessage))
                    .where(table_of(OutreachMessage).c.id == key_id).values(outbox_id=outbox_id))
    uow.audit(SYSTEM, "outreach.sent", "outreach", key_id, rule=candidate.rule,
              occasion=candidate.occasion, person=person, channel=recipient.channel,
              outbox_id=outbox_id, segments=segments)
    return Outcome(candidate.rule, candidate.occasion, person, "queued", "",
                   recipient.channel, recipient.address, message, segments)
