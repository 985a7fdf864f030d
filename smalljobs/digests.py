"""The opt-in digest: "Der er 3 nye opgaver i 8000 i dag. Skriv JOB for at se dem."

A digest is sent only when it has news: tasks posted since the last one (or since the
holder signed up) that the holder may take, in the digest's postcode or its municipality.
It goes to the linked phones and Telegram of active cards only, never to a conversation that
said STOP, and only in the daytime (Danish time), at most once a day or once a week.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select

from conversations import notify
from db.base import one_of
from db.commands import Actor
from db.observe import note_task
from db.reference_data import postcode_municipalities
from db.tables import Card
from db.task_tables import JobDigest, Task
from db.unit_of_work import UnitOfWork
from ledger.errors import CardNotFound
from ledger.service.lookups import card_by_number
from smalljobs import texts
from smalljobs.errors import InvalidFrequency
from smalljobs.matching import takeable_by
from smalljobs.posting import known_postcode
from smalljobs.records import FREQUENCIES, DigestView, Frequency
from smalljobs.timing import local_date, local_hour

PERIODS = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}
SLACK = dt.timedelta(hours=1)
"""A digest may go this much early, so a job that runs a little earlier each day still sends."""
FIRST_HOUR, LAST_HOUR = 9, 20
"""Digests go out between 9:00 and 20:00 Danish time, not in the night."""
_SYSTEM = Actor(name="system:tasks", channel="system")


def _view(card_number: str, digest: JobDigest) -> DigestView:
    return DigestView(card_number=card_number, postcode=digest.postcode,
                      frequency=one_of(digest.frequency, FREQUENCIES),
                      last_sent_at=digest.last_sent_at)


def subscribe_digest(uow: UnitOfWork, card_number: str, postcode: str, frequency: Frequency,
                     actor: Actor | None = None) -> DigestView:
    """Starts (or changes) the holder's digest; tasks posted from now on are news."""
    if frequency not in PERIODS:
        raise InvalidFrequency()
    card = card_by_number(uow.session, card_number)
    postcode, _ = known_postcode(postcode)
    digest = uow.session.get(JobDigest, card.id, with_for_update=True)
    if digest is None:
        digest = JobDigest(card_id=card.id, created_at=uow.now, seen_until=uow.now)
        uow.session.add(digest)
    digest.postcode = postcode
    digest.frequency = frequency
    uow.session.flush()
    uow.audit(actor or _SYSTEM, "job_digest.subscribe", "card", card.number,
              postcode=postcode, frequency=frequency)
    view = _view(card.number, digest)
    uow.commit()
    return view


def unsubscribe_digest(uow: UnitOfWork, card_number: str, actor: Actor | None = None) -> bool:
    card = card_by_number(uow.session, card_number)
    digest = uow.session.get(JobDigest, card.id)
    if digest is None:
        return False
    uow.session.delete(digest)
    uow.audit(actor or _SYSTEM, "job_digest.unsubscribe", "card", card.number)
    uow.commit()
    return True


def digest(uow: UnitOfWork, card_number: str) -> DigestView | None:
    """The holder's digest, if any (the card and its digest in one read)."""
    row = uow.session.execute(
        select(Card.number, JobDigest).outerjoin(JobDigest, JobDigest.card_id == Card.id)
        .where(Card.number == card_number.strip())).first()
    if row is None:
        raise CardNotFound(number=card_number)
    number, found = row
    return _view(number, found) if found else None


def send_due_digests(uow: UnitOfWork, now: dt.datetime | None = None) -> int:
    """Sends every digest that is due and has news; returns how many holders were told."""
    now = now or uow.now
    if not FIRST_HOUR <= local_hour(now) < LAST_HOUR:
        return 0
    today = local_date(now)
    rows = uow.session.execute(
        select(JobDigest, Card).join(Card, Card.id == JobDigest.card_id)
        .where(Card.status == "active").order_by(JobDigest.card_id)
        .with_for_update(of=JobDigest)).all()
    sent = 0
    for digest, card in rows:
        period = PERIODS[digest.frequency]
        if digest.last_sent_at is not None and now < digest.last_sent_at + period - SLACK:
            continue
        near = postcode_municipalities(digest.postcode)
        count = uow.session.scalar(
            select(func.count()).select_from(Task)
            .where(takeable_by(card, today), Task.created_at > digest.seen_until,
                   Task.created_at <= now,
                   or_(Task.postcode == digest.postcode, Task.municipality_code.in_(near))))
        if not count:
            continue
        key = "digest_one" if count == 1 else "digest_many"
        message = texts.text(key, count=count, postcode=digest.postcode,
                             period=texts.text(f"period_{digest.frequency}"))
        if notify.to_holder(uow, card.id, message):
            sent += 1
        digest.last_sent_at = now
        digest.seen_until = now
    uow.commit()
    note_task(uow.session, "digest_sent", "system", sent)
    return sent
