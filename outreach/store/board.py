"""What the console shows of outreach: announcements (written, counted, listed with their
delivery) and, per rule, what followed a message within a week (the Overblik)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db.conversation_tables import CardApplication, Conversation, OutboxMessage, TranscriptMessage
from db.outreach_tables import Announcement, OutreachMessage
from db.tables import Card, LedgerEntry
from outreach.store.candidates import announcement_handled, announcement_recipients

FOLLOW_UP = dt.timedelta(days=7)


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    municipality_code: str
    audience: str
    text: str
    status: str
    created_by: str
    created_at: dt.datetime
    recipients: int
    queued: int
    delivered: int
    failed: int
    skipped: int


@dataclass(frozen=True)
class RuleEffect:
    """Messages of one rule in the period, and how many were followed within 7 days by an
    application sent, a report confirmed, or a JOB message from the person."""

    rule: str
    sent: int
    skipped: int
    applications: int
    confirmed: int
    job_requests: int


def create(session: Session, *, municipality_code: str, audience: str, text: str,
           created_by: str, now: dt.datetime) -> Announcement:
    item = Announcement(municipality_code=municipality_code, audience=audience, text=text,
                        status="scheduled", created_by=created_by, created_at=now)
    session.add(item)
    session.flush()
    return item


def recipients(session: Session, municipality_code: str, audience: str) -> int:
    probe = Announcement(municipality_code=municipality_code, audience=audience)
    return len(announcement_recipients(session, probe))


def finish(session: Session, now: dt.datetime) -> int:
    """Scheduled announcements whose every recipient has a key row become done."""
    done = 0
    for item in session.scalars(select(Announcement).where(Announcement.status == "scheduled")
                                .with_for_update()):
        handled = announcement_handled(session, item.id)
        if all(f"card:{card}" in handled for card in announcement_recipients(session, item)):
            item.status, item.done_at = "done", now
            done += 1
    return done


def listing(session: Session, municipality_code: str | None) -> list[AnnouncementView]:
    """Newest first; a caseworker's own municipality, an administrator's (None) all."""
    stmt = select(Announcement).order_by(Announcement.id.desc())
    if municipality_code is not None:
        stmt = stmt.where(Announcement.municipality_code == municipality_code)
    items = list(session.scalars(stmt.limit(50)))
    if not items:
        return []
    rows = session.execute(
        select(OutreachMessage.occasion, OutreachMessage.status, OutboxMessage.status)
        .outerjoin(OutboxMessage, OutboxMessage.id == OutreachMessage.outbox_id)
        .where(OutreachMessage.rule == "announcement",
               OutreachMessage.occasion.in_([f"a{i.id}" for i in items]))).all()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for occasion, status, delivery in rows:
        counts[occasion][delivery or status] += 1
    views = []
    for item in items:
        c = counts[f"a{item.id}"]
        total = (sum(c.values()) if item.status == "done"
                 else len(announcement_recipients(session, item)))
        views.append(AnnouncementView(
            id=item.id, municipality_code=item.municipality_code, audience=item.audience,
            text=item.text, status=item.status, created_by=item.created_by,
            created_at=item.created_at, recipients=total, queued=c["pending"],
            delivered=c["sent"], failed=c["dead"], skipped=c["skipped"]))
    return views


def effects(session: Session, municipality_code: str | None, since: dt.datetime
            ) -> list[RuleEffect]:
    """Per rule, since `since`: messages sent and skipped, and what followed the sent ones."""
    stmt = select(OutreachMessage).where(OutreachMessage.created_at >= since)
    messages = list(session.scalars(stmt))
    if municipality_code is not None:
        cards = {card_id for card_id, in session.execute(
            select(Card.id).where(Card.municipality_code == municipality_code))}
        conversations = _conversations_of(session, municipality_code)
        messages = [m for m in messages if (m.card_id in cards if m.card_id is not None
                                            else m.conversation_id in conversations)]
    sent = [m for m in messages if m.status == "queued"]
    conv_ids = {m.conversation_id for m in sent if m.conversation_id is not None}
    report_ids = {int(m.occasion[1:]) for m in sent
                  if m.occasion.startswith("r") and m.occasion[1:].isdigit()}
    applied = _times(session, select(CardApplication.conversation_id, CardApplication.created_at)
                     .where(CardApplication.conversation_id.in_(conv_ids)))
    confirmed = _times(session, select(LedgerEntry.report_id, LedgerEntry.created_at)
                       .where(LedgerEntry.report_id.in_(report_ids),
                              LedgerEntry.kind.in_(("confirm", "post"))))
    jobs = _times(session, select(TranscriptMessage.conversation_id, TranscriptMessage.created_at)
                  .where(TranscriptMessage.conversation_id.in_(conv_ids),
                         TranscriptMessage.direction == "in",
                         TranscriptMessage.created_at >= since,
                         func.lower(TranscriptMessage.text).like("job%")))
    result = []
    for rule in sorted({m.rule for m in messages}):
        mine = [m for m in sent if m.rule == rule]

        def followed(times: dict[int, list[dt.datetime]], key: int | None,
                     message: OutreachMessage) -> bool:
            return key is not None and any(
                message.created_at <= t <= message.created_at + FOLLOW_UP
                for t in times.get(key, ()))
        result.append(RuleEffect(
            rule=rule, sent=len(mine),
            skipped=sum(1 for m in messages if m.rule == rule and m.status == "skipped"),
            applications=sum(followed(applied, m.conversation_id, m) for m in mine),
            confirmed=sum(followed(confirmed, _report_of(m), m) for m in mine),
            job_requests=sum(followed(jobs, m.conversation_id, m) for m in mine)))
    return result


def _report_of(message: OutreachMessage) -> int | None:
    tail = message.occasion[1:]
    return int(tail) if message.occasion.startswith("r") and tail.isdigit() else None


def _times(session: Session, stmt: Select[Any]) -> dict[int, list[dt.datetime]]:
    found: dict[int, list[dt.datetime]] = defaultdict(list)
    for key, at in session.execute(stmt):
        found[int(key)].append(at)
    return found


def _conversations_of(session: Session, municipality_code: str) -> set[int]:
    return {cid for cid, in session.execute(
        select(Conversation.id).where(Conversation.municipality_code == municipality_code))}
