"""The municipality's overview: usage of cards, applications, conversations, escalations and
the messages the bot did not understand.

Scope: a caseworker or consultant sees their own municipality; an administrator every
municipality together, or one they choose. Conversations and escalations count for the
municipality of their conversation (`access.conversation_home`). Years are calendar years
in Danish time; "recent" is the last RECENT_DAYS days up to and including today.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import Session

from casework.applications import STATUSES
from casework.records import Count, DayCount, FallbackItem, Overview, UsageYear
from db.conversation_tables import CardApplication, Conversation, Escalation, TranscriptMessage
from db.unit_of_work import UnitOfWork
from ledger import queries
from ledger.service.lookups import municipality
from staff.access import conversation_home
from staff.errors import NotAllowedForRole
from staff.principal import StaffPrincipal
from staff.redaction import redact_cpr

RECENT_DAYS = 30
USAGE_YEARS = 3
MAX_FALLBACKS = 20
FALLBACK_INTENT = "nlu_fallback"
"""The intent the bot records for a message it did not understand: the NLU's fallback
(`nlu.FALLBACK_INTENT`, Rasa's name; the ledger may not import nlu, a test keeps them equal)."""
_DK = ZoneInfo("Europe/Copenhagen")


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight in Denmark, as an aware datetime (compared with the UTC columns)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=_DK)


def _scope(uow: UnitOfWork, principal: StaffPrincipal, chosen: str | None) -> str | None:
    if principal.is_admin:
        return municipality(uow.session, chosen).code if chosen else None
    if chosen not in (None, principal.municipality_code):
        raise NotAllowedForRole(role=principal.role)
    return principal.municipality_code


def _median(values: list[float]) -> int | None:
    return round(statistics.median(values)) if values else None


def _mean(values: list[float]) -> int | None:
    return round(statistics.fmean(values)) if values else None


def overview(uow: UnitOfWork, principal: StaffPrincipal, year: int,
             municipality_code: str | None) -> Overview:
    code = _scope(uow, principal, municipality_code)
    session = uow.session
    home = conversation_home()
    where_home: ColumnElement[bool] = true() if code is None else home == code
    year_from, year_to = _start_of(dt.date(year, 1, 1)), _start_of(dt.date(year + 1, 1, 1))
    recent_from = _start_of(uow.today - dt.timedelta(days=RECENT_DAYS - 1))

    by_status, processing = _applications(session, code, year_from, year_to)
    opened, urgent, taken, response = _escalations(session, where_home, year_from, year_to)
    fallbacks, fallback_total = _fallbacks(session, where_home, recent_from)
    return Overview(
        year=year, municipality_code=code, usage=_usage(session, code, year),
        applications_by_status=tuple(Count(s, by_status.get(s, 0)) for s in STATUSES),
        processing_median_seconds=_median(processing),
        processing_mean_seconds=_mean(processing),
        conversations_per_day=_per_day(session, where_home, uow.today, recent_from),
        escalations_opened=opened, escalations_urgent=urgent, escalations_taken=taken,
        response_median_seconds=_median(response),
        fallbacks=fallbacks, fallback_total=fallback_total)


def _usage(session: Session, code: str | None, year: int) -> tuple[UsageYear, ...]:
    """Cards granted against cards used, the evaluations' key figure (`queries.usage_stats`)."""
    found = []
    for y in range(year - USAGE_YEARS + 1, year + 1):
        rows = queries.usage_stats(session, y, code)
        found.append(UsageYear(y, sum(r.cards_granted for r in rows),
                               sum(r.cards_used for r in rows)))
    return tuple(found)


def _applications(session: Session, code: str | None, start: dt.datetime,
                  end: dt.datetime) -> tuple[Counter[str], list[float]]:
    stmt = select(CardApplication.status, CardApplication.created_at,
                  CardApplication.decided_at).where(CardApplication.created_at >= start,
                                                    CardApplication.created_at < end)
    if code is not None:
        stmt = stmt.where(CardApplication.municipality_code == code)
    rows = session.execute(stmt).all()
    return (Counter(status for status, _, _ in rows),
            [(decided - created).total_seconds() for _, created, decided in rows if decided])


def _escalations(session: Session, where_home: ColumnElement[bool], start: dt.datetime,
                 end: dt.datetime) -> tuple[int, int, int, list[float]]:
    rows = session.execute(
        select(Escalation.urgent, Escalation.created_at, Escalation.taken_at)
        .join(Conversation, Conversation.id == Escalation.conversation_id)
        .where(Escalation.created_at >= start, Escalation.created_at < end, where_home)).all()
    response = [(taken - created).total_seconds() for _, created, taken in rows if taken]
    return len(rows), sum(1 for urgent, _, _ in rows if urgent), len(response), response


def _inbound(where_home: ColumnElement[bool], since: dt.datetime) -> Select[Any]:
    """Messages from citizens since `since`, in scope: (conversation id, text, time)."""
    return (select(TranscriptMessage.conversation_id, TranscriptMessage.text,
                   TranscriptMessage.created_at)
            .join(Conversation, Conversation.id == TranscriptMessage.conversation_id)
            .where(TranscriptMessage.direction == "in", TranscriptMessage.created_at >= since,
                   where_home))


def _per_day(session: Session, where_home: ColumnElement[bool], today: dt.date,
             since: dt.datetime) -> tuple[DayCount, ...]:
    """Days are Danish calendar days; a day without messages counts 0."""
    seen = {(at.astimezone(_DK).date(), cid)
            for cid, _, at in session.execute(_inbound(where_home, since))}
    per_day = Counter(day for day, _ in seen)
    days = [today - dt.timedelta(days=n) for n in range(RECENT_DAYS - 1, -1, -1)]
    return tuple(DayCount(day, per_day.get(day, 0)) for day in days)


def _fallbacks(session: Session, where_home: ColumnElement[bool],
               since: dt.datetime) -> tuple[tuple[FallbackItem, ...], int]:
    """Messages the bot answered with its fallback (the same words, ignoring case and spaces,
    counted together), newest first. Messages the bot stayed silent on (a person had the
    conversation, or the sender wrote STOP) are left out: they were not written to the bot."""
    rows = session.execute(
        _inbound(where_home, since)
        .where(TranscriptMessage.intent == FALLBACK_INTENT,
               TranscriptMessage.replies_json != "[]")
        .order_by(TranscriptMessage.created_at.desc(), TranscriptMessage.id.desc())).all()
    groups: dict[str, list[tuple[str, dt.datetime]]] = {}
    for _, text, at in rows:
        shown = " ".join(redact_cpr(text).split())
        groups.setdefault(shown.casefold(), []).append((shown, at))
    items = [FallbackItem(text=found[0][0], count=len(found), last_at=found[0][1])
             for found in groups.values()]
    return tuple(items[:MAX_FALLBACKS]), len(rows)
