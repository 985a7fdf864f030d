"""Conversation rows, the transcript, and who a sender is."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    TextClause,
    bindparam,
    column,
    inspect,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from conversations import outbox, outbox_signal
from conversations.records import Identity, InboundState, StoredInbound, TranscriptLine
from cpr import redact_cpr
from db.base import table_of
from db.conversation_tables import Conversation, OutboxMessage, TranscriptMessage
from db.tables import Card, Citizen, CitizenContact, Employer, EmployerContact


def contact_kind(channel: str) -> str:
    """The citizen-contact kind a channel's addresses are: a Telegram id, or else a phone number
    (the web chat's demo identities write as phone numbers)."""
    return "telegram" if channel == "telegram" else "phone"


def channels_of_kind(kind: str) -> tuple[str, ...]:
    """The channels whose conversations a contact of this kind writes in ("voice": a caller's
    wrong Frikort-ID endings are counted under it; the call itself is in the SMS conversation)."""
    return ("telegram",) if kind == "telegram" else ("sms", "web", "voice")


def conversation_for(
    session: Session, channel: str, address: str, now: dt.datetime, *, lock: bool
) -> Conversation:
    """The sender's conversation, created on first contact; locked when `lock` is set.

    Read first: nearly every message comes from a known sender, and the insert is then one
    statement saved. The insert returns the new row (locked by it until commit), and ignores a
    conflict, so two first messages at once still make one row: the loser reads the winner's.
    """
    stmt = _CONVERSATION_LOCKED if lock else _CONVERSATION
    params = {"channel": channel, "address": address}
    found = session.scalars(stmt, params).one_or_none()
    if found is not None:
        return found
    created = session.scalars(_INSERT_CONVERSATION, {
        "channel": channel, "address": address, "opted_out": False, "now": now}).one_or_none()
    if created is not None:
        return created
    return session.scalars(stmt, params).one()


# Built once: they run for every message, and building a select costs more than running it.
_CONVERSATION = select(Conversation).where(Conversation.channel == bindparam("channel"),
                                           Conversation.address == bindparam("address"))
_CONVERSATION_LOCKED = _CONVERSATION.with_for_update().execution_options(populate_existing=True)
_CONVERSATIONS = table_of(Conversation)
_INSERT_CONVERSATION = select(Conversation).from_statement(sql_text(
    "INSERT INTO conversations (channel, address, state_json, handoff, opted_out,"
    " last_activity_at, created_at) VALUES (:channel, :address, '{}', 'bot', :opted_out,"
    " :now, :now) ON CONFLICT (channel, address) DO NOTHING RETURNING "
    + ", ".join(column.name for column in _CONVERSATIONS.c)
).bindparams(
    bindparam("opted_out", type_=_CONVERSATIONS.c.opted_out.type),
    bindparam("now", type_=_CONVERSATIONS.c.created_at.type),
).columns(*_CONVERSATIONS.c))
"""As a text for both dialects (SQLite 3.35+ has RETURNING), compiled once: the dialects'
on_conflict constructs have no cache key. Loaded as the ORM row the turn then changes."""
_INBOUND_BY_PROVIDER_ID = select(TranscriptMessage).where(
    TranscriptMessage.channel == bindparam("channel"),
    TranscriptMessage.provider_message_id == bindparam("provider_message_id"))
_INBOUND_BY_ID = (select(TranscriptMessage).where(TranscriptMessage.id == bindparam("id"))
                  .execution_options(populate_existing=True))


def store_inbound(
    session: Session, channel: str, address: str, provider_message_id: str, text: str,
    now: dt.datetime, *, message_channel: str | None = None,
    count_recent: tuple[dt.datetime, int] | None = None,
) -> StoredInbound:
    """Stores a message before anything else happens to it; a provider retry finds the first.

    A known sender's new message is one statement: the insert takes the conversation's id by
    its channel and address. The unique (channel, provider id) decides what is new; a
    concurrent first delivery of the same id makes the insert wait for it, then insert
    nothing. Nothing inserted is a first message (no conversation yet) or a retry.
    `message_channel` is the message's own channel when it is kept in another channel's
    conversation (a call's turns in the caller's SMS conversation): provider ids are unique
    per channel. With `count_recent` (since, at most), a new message also comes back with
    `recent` (the rate limit's count, see `intake.recent_inbound`), returned by the insert
    itself: no statement of its own."""
    own = message_channel or channel
    since, at_most = count_recent or (now, 1)
    params = {"channel": own, "conversation_channel": channel, "address": address,
              "provider_message_id": provider_message_id, "text": redact_cpr(text),
              "created_at": now, "since": since, "earlier_at_most": at_most - 1}
    counted = count_recent is not None
    row = session.connection().execute(_INSERT_INBOUND_BY_ADDRESS, params).first()
    if row is not None:
        return _new_inbound(row, counted)
    conversation = session.scalars(_INSERT_CONVERSATION, {
        "channel": channel, "address": address, "opted_out": False, "now": now}).one_or_none()
    if conversation is None:  # it exists: a retry, or another first message just made it
        existing = _stored(session, own, provider_message_id)
        if existing is not None:
            return existing
        conversation = session.scalars(_CONVERSATION, {"channel": channel,
                                                      "address": address}).one()
    row = session.connection().execute(
        _INSERT_INBOUND, {**params, "conversation_id": conversation.id}).first()
    if row is not None:
        return _new_inbound(row, counted)
    found = _stored(session, own, provider_message_id)
    if found is None:  # the row that conflicted was erased before it could be read
        raise LookupError(f"inbound {provider_message_id} conflicted but is gone")
    return found


def _new_inbound(row: Row[Any], counted: bool) -> StoredInbound:
    """A message the insert just stored, with its rate-limit count when one was asked for."""
    return StoredInbound(row.id, row.conversation_id, False, None,
                         recent=int(row.recent) if counted else None)


def _stored(session: Session, channel: str, provider_message_id: str) -> StoredInbound | None:
    """The message already stored under this provider id, with the replies it got, if any."""
    existing = session.scalars(_INBOUND_BY_PROVIDER_ID, {
        "channel": channel, "provider_message_id": provider_message_id}).one_or_none()
    if existing is None:
        return None
    replies = tuple(json.loads(existing.replies_json)) if existing.replies_json else None
    return StoredInbound(existing.id, existing.conversation_id, True, replies)


_TRANSCRIPT = table_of(TranscriptMessage)
_INBOUND_VALUES = "'in', :channel, :provider_message_id, 'user', :text, :created_at"
_RECENT_EARLIER = (
    "1 + (SELECT count(*) FROM (SELECT earlier.created_at FROM transcript_messages AS earlier"
    " WHERE earlier.conversation_id = transcript_messages.conversation_id"
    " AND earlier.direction = 'in' AND earlier.id < transcript_messages.id"
    " ORDER BY earlier.id DESC LIMIT :earlier_at_most) AS latest"
    " WHERE latest.created_at >= :since)")
"""The rate limit's count (`intake.recent_inbound`) of the row just inserted: itself, and of
the `at_most - 1` inbound messages before it those since `since`. Earlier rows by id, so it
is the same whether the dialect's RETURNING sees the new row (SQLite) or not (PostgreSQL)."""
_INBOUND_CONFLICT = (" ON CONFLICT (channel, provider_message_id) DO NOTHING"
                     f" RETURNING id, conversation_id, {_RECENT_EARLIER} AS recent")
_INBOUND_TYPES = (
    bindparam("conversation_channel", type_=_CONVERSATIONS.c.channel.type),
    bindparam("address", type_=_CONVERSATIONS.c.address.type),
    bindparam("channel", type_=_TRANSCRIPT.c.channel.type),
    bindparam("provider_message_id", type_=_TRANSCRIPT.c.provider_message_id.type),
    bindparam("text", type_=_TRANSCRIPT.c.text.type),
    bindparam("created_at", type_=_TRANSCRIPT.c.created_at.type),
    bindparam("since", type_=_TRANSCRIPT.c.created_at.type),
    bindparam("earlier_at_most", type_=Integer),
)
_INBOUND_RETURNS = (_TRANSCRIPT.c.id, _TRANSCRIPT.c.conversation_id, column("recent", Integer))
_INSERT_INBOUND_BY_ADDRESS = sql_text(
    "INSERT INTO transcript_messages (conversation_id, direction, channel, provider_message_id,"
    f" author, text, created_at) SELECT id, {_INBOUND_VALUES} FROM conversations"
    " WHERE channel = :conversation_channel AND address = :address" + _INBOUND_CONFLICT
).bindparams(*_INBOUND_TYPES).columns(*_INBOUND_RETURNS)
"""No row: no conversation yet, or the provider id is stored. (SQLite parses an upsert on an
INSERT ... SELECT only with a WHERE, which this has.)"""
_INSERT_INBOUND = sql_text(
    "INSERT INTO transcript_messages (conversation_id, direction, channel, provider_message_id,"
    f" author, text, created_at) VALUES (:conversation_id, {_INBOUND_VALUES})" + _INBOUND_CONFLICT
).bindparams(
    bindparam("conversation_id", type_=_TRANSCRIPT.c.conversation_id.type),
    *_INBOUND_TYPES[2:],
).columns(*_INBOUND_RETURNS)
"""Both as texts for PostgreSQL and SQLite (3.35+: RETURNING), compiled once: the dialects'
on_conflict constructs have no cache key, and would be compiled again for every message."""


def locked_with_inbound(
    session: Session, channel: str, address: str, inbound_id: int,
) -> tuple[Conversation, InboundState] | None:
    """The conversation, locked, and whether its stored inbound `inbound_id` was answered: one
    statement for a turn's lock and its replay check. None when that message is not in it.

    Both rows are locked (FOR UPDATE of the join): when the lock was held by a concurrent
    retry's turn, PostgreSQL then re-reads both at their newest versions, so the answer that
    turn committed is seen. A read of the message without its lock would see the statement's
    snapshot, taken before the wait, and answer the message a second time."""
    row = session.execute(_CONVERSATION_WITH_INBOUND, {
        "channel": channel, "address": address, "inbound_id": inbound_id}).one_or_none()
    if row is None:
        return None
    conversation, processed_at, replies_json = row
    replies = None if processed_at is None else tuple(json.loads(replies_json or "[]"))
    return conversation, InboundState(inbound_id, replies)


_CONVERSATION_WITH_INBOUND = (
    select(Conversation, TranscriptMessage.processed_at, TranscriptMessage.replies_json)
    .join(TranscriptMessage, TranscriptMessage.conversation_id == Conversation.id)
    .where(Conversation.channel == bindparam("channel"),
           Conversation.address == bindparam("address"),
           TranscriptMessage.id == bindparam("inbound_id"))
    .with_for_update().execution_options(populate_existing=True))


def load_inbound(session: Session, inbound_id: int) -> TranscriptMessage | None:
    """The stored message as the database has it now (a concurrent retry may have answered it)."""
    return session.scalars(_INBOUND_BY_ID, {"id": inbound_id}).one_or_none()


def replies_of(message: TranscriptMessage | None) -> tuple[str, ...] | None:
    """The replies already sent to a stored message; None while it is not answered."""
    if message is None or message.processed_at is None:
        return None
    return tuple(json.loads(message.replies_json or "[]"))


def finish_inbound(
    session: Session, inbound_id: int, intent: str | None, replies: tuple[str, ...],
    now: dt.datetime,
) -> None:
    """Marks the message answered with its replies, which a provider's retry gets again.
    A Core UPDATE: the turn reads the message with its lock, not as an ORM row."""
    done = session.connection().execute(_FINISH_INBOUND, {
        "inbound_id": inbound_id, "set_intent": intent, "set_processed_at": now,
        "set_replies": json.dumps(list(replies), ensure_ascii=False)})
    if done.rowcount != 1:
        raise LookupError(f"inbound {inbound_id} is gone")


_FINISH_INBOUND = (update(_TRANSCRIPT).where(_TRANSCRIPT.c.id == bindparam("inbound_id"))
                   .values(intent=bindparam("set_intent"), replies_json=bindparam("set_replies"),
                           processed_at=bindparam("set_processed_at")))


def finishes_in_one_statement(session: Session, conversation: Conversation) -> bool:
    """Whether `finish_turn` may write the turn's end: on PostgreSQL (data-modifying WITH),
    when nothing but the conversation's own row waits to be flushed."""
    if session.get_bind().dialect.name != "postgresql" or session.new or session.deleted:
        return False
    return all(item is conversation for item in session.dirty)


def finish_turn(
    session: Session, conversation: Conversation,
    replies: tuple[tuple[str, tuple[str, ...]], ...], *, channel: str, inbound_id: int,
    intent: str | None, now: dt.datetime, queue: bool = False,
    stored: tuple[str, ...] | None = None, lease: bool = False,
) -> list[int]:
    """The end of a turn in one statement: the conversation's changed columns, the replies
    (text, buttons) as transcript lines and, with `queue`, as outbox messages to the
    conversation's own address (Telegram), and the inbound marked answered with them, as
    `save_state`, `record_reply` and `finish_inbound` write them in three or more. Only where
    `finishes_in_one_statement` says so, and as the turn's last write: the conversation's
    changes are then committed values of the ORM row, which leaves the session. `stored`:
    what a retry gets back, when not the replies' texts (see `Turn.answer`).

    With `lease` the queued replies are written already claimed by the caller (one attempt,
    leased for `outbox.CLAIM_LEASE_S`), who sends them as soon as the turn commits, unless
    an older message to the same address still waits: then they queue behind it, so the
    order per recipient holds. Returns the ids of the replies leased so, oldest first."""
    state = inspect(conversation)
    changed = {attr.key: attr.value for attr in state.attrs
               if attr.key in _CONVERSATION_COLUMNS and attr.history.has_changes()}
    queued = queue and bool(replies)
    leased = queued and lease
    statement = _finish_turn_statement(frozenset(changed), len(replies), queued, leased)
    texts = [text for text, _ in replies]
    params: dict[str, Any] = {f"c_{key}": value for key, value in changed.items()}
    params.update({f"r_{i}": redact_cpr(text) for i, text in enumerate(texts)})
    params.update({"conversation_id": conversation.id, "channel": channel, "now": now,
                   "inbound_id": inbound_id, "intent": intent,
                   "replies": json.dumps(texts if stored is None else list(stored),
                                         ensure_ascii=False)})
    if queued:
        params.update({f"b_{i}": json.dumps(list(buttons)) for i, (_, buttons) in
                       enumerate(replies)})
        params.update({"outbox_channel": conversation.channel,
                       "recipient": conversation.address})
    if leased:
        params["lease_until"] = now + dt.timedelta(seconds=outbox.CLAIM_LEASE_S)
    done = session.connection().execute(statement, params)
    if done.rowcount != 1:
        raise LookupError(f"inbound {inbound_id} is gone")
    ids: list[int] = list(done.scalar_one() or ()) if leased else []
    if queued and not ids:  # the worker's to send: wake it once this commits
        outbox_signal.mark_inserted(session)
    for key, value in changed.items():
        set_committed_value(conversation, key, value)
    # Written: the session need not flush it at commit (a flush that writes nothing still
    # walks the unit of work, about a tenth of the turn's own work). Its values stay readable.
    session.expunge(conversation)
    return ids


_CONVERSATION_COLUMNS = frozenset(column.key for column in _CONVERSATIONS.c) - {"id"}
_OUTBOX = table_of(OutboxMessage)


@functools.cache
def _finish_turn_statement(changed: frozenset[str], replies: int, queued: bool,
                           leased: bool = False) -> TextClause:
    """One statement per shape (which columns changed, how many replies, queued or not,
    leased or not), built once. Queued replies are one multi-row INSERT into the outbox (ids
    in reply order, so the worker sends them in order), and each transcript line takes its
    text and outbox id from its outbox row (the sub-statements of a WITH run in no set order).
    Leased replies (see `finish_turn`) read once, at the statement's start, whether an older
    message to the address waits; the ids of those leased come back from the last UPDATE."""
    parts = []
    binds = [bindparam("now", type_=_TRANSCRIPT.c.created_at.type),
             bindparam("inbound_id", type_=_TRANSCRIPT.c.id.type),
             bindparam("intent", type_=_TRANSCRIPT.c.intent.type),
             bindparam("replies", type_=_TRANSCRIPT.c.replies_json.type)]
    if changed or replies:
        binds.append(bindparam("conversation_id", type_=_TRANSCRIPT.c.conversation_id.type))
    if changed:
        columns = sorted(changed)
        parts.append("conversation AS (UPDATE conversations SET "
                     + ", ".join(f"{key} = :c_{key}" for key in columns)
                     + " WHERE id = :conversation_id)")
        binds += [bindparam(f"c_{key}", type_=_CONVERSATIONS.c[key].type) for key in columns]
    attempts, due = "0", ":now"
    if leased:
        parts.append("waiting AS (SELECT EXISTS (SELECT 1 FROM outbox WHERE channel ="
                     " :outbox_channel AND recipient = :recipient AND status = 'pending') AS yes)")
        attempts = "CASE WHEN (SELECT yes FROM waiting) THEN 0 ELSE 1 END"
        due = "CASE WHEN (SELECT yes FROM waiting) THEN :now ELSE :lease_until END"
        binds.append(bindparam("lease_until", type_=_OUTBOX.c.next_attempt_at.type))
    if queued:
        parts.append(
            "queued AS (INSERT INTO outbox (channel, recipient, text, buttons_json, status,"
            " attempts, next_attempt_at, last_error, conversation_id, created_at) VALUES "
            + ", ".join(f"(:outbox_channel, :recipient, :r_{i}, :b_{i}, 'pending', {attempts},"
                        f" {due}, '', :conversation_id, :now)" for i in range(replies))
            + " RETURNING id, text, attempts), "
            "reply AS (INSERT INTO transcript_messages (conversation_id, direction, channel,"
            " author, text, created_at, outbox_id) SELECT :conversation_id, 'out', :channel,"
            " 'bot', queued.text, :now, queued.id FROM queued ORDER BY queued.id)")
        binds += [bindparam("outbox_channel", type_=_OUTBOX.c.channel.type),
                  bindparam("recipient", type_=_OUTBOX.c.recipient.type),
                  *(bindparam(f"b_{i}", type_=_OUTBOX.c.buttons_json.type)
                    for i in range(replies))]
    elif replies:
        parts.append(
            "reply AS (INSERT INTO transcript_messages (conversation_id, direction, channel,"
            " author, text, created_at) VALUES "
            + ", ".join(f"(:conversation_id, 'out', :channel, 'bot', :r_{i}, :now)"
                        for i in range(replies)) + ")")
    if replies:
        binds += [bindparam("channel", type_=_TRANSCRIPT.c.channel.type),
                  *(bindparam(f"r_{i}", type_=_TRANSCRIPT.c.text.type) for i in range(replies))]
    with_ = f"WITH {', '.join(parts)} " if parts else ""
    returning = (" RETURNING (SELECT array_agg(id ORDER BY id) FROM queued WHERE attempts = 1)"
                 if leased else "")
    return sql_text(
        with_ + "UPDATE transcript_messages SET intent = :intent, replies_json = :replies,"
        " processed_at = :now WHERE id = :inbound_id" + returning).bindparams(*binds)


def record_outbound(
    session: Session, conversation: Conversation, text: str, author: str, now: dt.datetime,
    outbox_id: int | None = None, *, channel: str | None = None,
) -> None:
    session.add(TranscriptMessage(
        conversation_id=conversation.id, direction="out",
        channel=channel or conversation.channel,
        provider_message_id=None, author=author, text=redact_cpr(text), outbox_id=outbox_id,
        created_at=now))


def transcript(session: Session, conversation_id: int, limit: int = 200) -> list[TranscriptLine]:
    rows = session.execute(
        select(TranscriptMessage, OutboxMessage.status)
        .outerjoin(OutboxMessage, OutboxMessage.id == TranscriptMessage.outbox_id)
        .where(TranscriptMessage.conversation_id == conversation_id)
        .order_by(TranscriptMessage.id.desc()).limit(limit)
    ).all()
    # Redacted again on the way out: a row stored before a spelling was recognised (see
    # `frikort privacy redact-history`) is not shown in full either.
    return [TranscriptLine(m.direction, m.author, redact_cpr(m.text), m.created_at, status)
            for m, status in reversed(rows)]


def pending_buttons(
    session: Session, channel: str, address: str, pressed_in: str,
) -> tuple[str | None, tuple[str, ...]] | None:
    """(provider message id, buttons) of the question with buttons still waiting in the
    conversation: its newest outbound message with buttons, and not followed by any inbound
    message but `pressed_in` itself (a provider's retry of the same press). The id is None
    while the message is on its way: the provider has shown it (the button was pressed) but
    the outbox has not written down its id yet. None when no question with buttons waits."""
    conversation = session.scalar(_CONVERSATION_ID, {"channel": channel, "address": address})
    if conversation is None:
        return None
    asked = session.execute(
        select(TranscriptMessage.id, OutboxMessage.provider_message_id, OutboxMessage.buttons_json)
        .join(OutboxMessage, OutboxMessage.id == TranscriptMessage.outbox_id)
        .where(TranscriptMessage.conversation_id == conversation,
               TranscriptMessage.direction == "out", OutboxMessage.buttons_json != "[]")
        .order_by(TranscriptMessage.id.desc()).limit(1)).first()
    if asked is None:
        return None
    answered = session.scalar(
        select(TranscriptMessage.id).where(
            TranscriptMessage.conversation_id == conversation,
            TranscriptMessage.direction == "in", TranscriptMessage.id > asked.id,
            TranscriptMessage.provider_message_id.is_distinct_from(pressed_in))
        .limit(1))
    if answered is not None:
        return None
    return asked.provider_message_id, tuple(json.loads(asked.buttons_json))


_CONVERSATION_ID = select(Conversation.id).where(Conversation.channel == bindparam("channel"),
                                                 Conversation.address == bindparam("address"))


def identity_for(session: Session, channel: str, address: str) -> Identity:
    """A linked card holder wins over an employer contact on the same number."""
    return identity_and_municipality(session, channel, address)[0]


def identity_and_municipality(
    session: Session, channel: str, address: str,
) -> tuple[Identity, str | None]:
    """The sender's identity, and the linked card's municipality (None without one), which a
    holder's new conversation is filed under: read with the identity, not by a query of its own.

    One round trip for both (it runs for every message): the holder's row, if any, then the
    employer's rows, a verified employer first."""
    params = {"kind": "telegram" if channel == "telegram" else "phone", "address": address}
    holder = employer = None
    for row in session.execute(_IDENTITY, params):
        if row.who == "holder" and holder is None:
            holder = row
        elif row.who == "employer" and employer is None:
            employer = row
    identity = Identity(
        card_number=holder.key if holder else None,
        holder_name=holder.name if holder else None,
        employer_cvr=employer.key if employer else None,
        employer_name=employer.name if employer else None,
        employer_verified=bool(employer and employer.verified),
    )
    return identity, holder.municipality if holder else None


_HOLDER_BY_CONTACT = (
    select(literal("holder").label("who"), Card.number.label("key"), Citizen.name.label("name"),
           literal(False).label("verified"), Card.id.label("rank"),
           Card.municipality_code.label("municipality"))
    .join(Citizen, Citizen.id == Card.citizen_id)
    .join(CitizenContact, CitizenContact.citizen_id == Citizen.id)
    .where(CitizenContact.kind == bindparam("kind"),
           CitizenContact.address == bindparam("address")))
_EMPLOYER_BY_CONTACT = (
    select(literal("employer").label("who"), Employer.cvr.label("key"),
           Employer.name.label("name"), Employer.verified.label("verified"),
           Employer.id.label("rank"), null().label("municipality"))
    .join(EmployerContact, EmployerContact.employer_id == Employer.id)
    .where(EmployerContact.kind == bindparam("kind"),
           EmployerContact.address == bindparam("address")))
_BOTH = union_all(_HOLDER_BY_CONTACT, _EMPLOYER_BY_CONTACT).subquery()
_IDENTITY = select(_BOTH).order_by(_BOTH.c.who, _BOTH.c.verified.desc(), _BOTH.c.rank)
