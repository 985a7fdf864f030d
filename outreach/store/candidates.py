"""Who each outreach rule would write to now: one read per rule, nothing locked or written.

A candidate is only a proposal. Whether it is sent is decided in the sending transaction
(`ledger.outreach.delivery`) under the key's uniqueness and the one consent policy; here we
only leave out keys already handled, so a sweep with nothing new stays cheap at national
size. Timing comes from the rule's row (`RuleParams.delay_hours`, `every_days`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from db.conversation_tables import CardApplication, Conversation
from db.outreach_tables import Announcement, OutreachMessage
from db.reference_data import REFERENCE_ACTOR
from db.tables import CapVersion, Card, CardBalance, LedgerEntry, WageReport
from db.task_tables import JobDigest
from outreach.store.records import Candidate, RuleParams

THRESHOLDS = (80, 95, 100)
"""Per cent of the year's cap a card holder is told about, once each, when crossed."""
CLOSED_KINDS = ("confirm", "post", "post_direct", "void", "expire")
"""Entries after which a report no longer waits for the employer's JA."""
STALE_AFTER = dt.timedelta(hours=48)
"""A conversation silent this much longer than a reminder's delay is not reminded at all:
after a restart or an outage we do not write about something days old."""

Selector = Callable[[Session, RuleParams, dt.datetime, dt.date], list[Candidate]]


def _card_key() -> Any:
    return literal("card:") + cast(Card.id, String)


def _not_recorded(rule: str, occasion: Any, person: Any) -> Any:
    return ~exists().where(OutreachMessage.rule == rule, OutreachMessage.person_key == person,
                           OutreachMessage.occasion == occasion)


def recorded_keys(session: Session, rule: str, since: dt.datetime) -> set[tuple[str, str]]:
    """(person, occasion) of the rule's messages since `since` (a small, recent set)."""
    rows = session.execute(select(OutreachMessage.person_key, OutreachMessage.occasion)
                           .where(OutreachMessage.rule == rule,
                                  OutreachMessage.created_at >= since))
    return {(person, occasion) for person, occasion in rows}


def recently_told(session: Session, rule: str, since: dt.datetime) -> set[str]:
    """People this rule wrote to (queued, not skipped) since `since`: its "at most how often"."""
    rows = session.scalars(select(OutreachMessage.person_key).where(
        OutreachMessage.rule == rule, OutreachMessage.status == "queued",
        OutreachMessage.created_at > since))
    return set(rows)


def _fresh(session: Session, rule: RuleParams, found: Iterable[Candidate], now: dt.datetime,
           horizon: dt.timedelta) -> list[Candidate]:
    """Leaves out keys recorded within `horizon` and people told within `every_days`."""
    done = recorded_keys(session, rule.name, now - horizon)
    told = (recently_told(session, rule.name, now - dt.timedelta(days=rule.every_days))
            if rule.every_days else set())
    return [c for c in found
            if (c.person_key, c.occasion) not in done and c.person_key not in told]


def _state(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def unfinished_application(session: Session, rule: RuleParams, now: dt.datetime,
                           today: dt.date) -> list[Candidate]:
    """Conversations left in the middle of an application for about `delay_hours`."""
    due = now - dt.timedelta(hours=rule.delay_hours)
    rows = session.execute(
        select(Conversation.id, Conversation.state_json, Conversation.last_activity_at)
        .where(Conversation.state_json.like('%"flow": "apply_card"%'),
               Conversation.handoff == "bot", Conversation.last_activity_at <= due,
               Conversation.last_activity_at > due - STALE_AFTER)).all()
    found = [Candidate(rule.name, "conversation", int(cid), f"{last:%Y%m%d%H%M}")
             for cid, raw, last in rows if _state(raw).get("flow") == "apply_card"]
    return _fresh(session, rule, found, now, dt.timedelta(days=max(rule.every_days, 7)))


def _waiting_reports(session: Session, report_ids: list[int], now: dt.datetime
                     ) -> list[tuple[WageReport, str]]:
    """The reports (with their card numbers) that still wait for JA and have not expired."""
    if not report_ids:
        return []
    closed = exists().where(LedgerEntry.report_id == WageReport.id,
                            LedgerEntry.kind.in_(CLOSED_KINDS))
    rows = session.execute(
        select(WageReport, Card.number).join(Card, Card.id == WageReport.card_id)
        .where(WageReport.id.in_(report_ids), WageReport.post_on_create.is_(False),
               WageReport.expires_at > now, ~closed).order_by(WageReport.id)).all()
    return [(report, str(number)) for report, number in rows]


def _unconfirmed(session: Session, rule: RuleParams, now: dt.datetime, *,
                 before_expiry: bool) -> list[Candidate]:
    """Employers' conversations whose read-back has waited for JA: `delay_hours` after it, or
    (`before_expiry`) within `delay_hours` of the reservation running out."""
    quiet_since = now - dt.timedelta(hours=24)
    rows = session.execute(
        select(Conversation.id, Conversation.state_json)
        .where(Conversation.state_json.like('%"flow": "report_wage"%'),
               Conversation.last_activity_at <= quiet_since)).all()
    found = []
    for cid, raw in rows:
        state = _state(raw)
        pending = state.get("pending") or []
        if state.get("flow") != "report_wage" or state.get("asking") != "confirm":
            continue
        ids = [int(entry["id"]) for entry in pending
               if isinstance(entry, dict) and str(entry.get("id", "")).isdigit()]
        waiting = _waiting_reports(session, ids, now)
        if not waiting:
            continue
        first, card = waiting[0]
        if before_expiry:
            if now < first.expires_at - dt.timedelta(hours=rule.delay_hours):
                continue
        elif now < first.created_at + dt.timedelta(hours=rule.delay_hours) \
                or now > first.created_at + dt.timedelta(hours=rule.delay_hours) + STALE_AFTER:
            continue
        values: dict[str, str | int] = {
            "amount_ore": sum(r.amount_ore for r, _ in waiting), "card": card,
            "count": len(waiting), "expires_at": first.expires_at.isoformat()}
        found.append(Candidate(rule.name, "conversation", int(cid), f"r{first.id}", values))
    return _fresh(session, rule, found, now, dt.timedelta(days=30))


def report_unconfirmed(session: Session, rule: RuleParams, now: dt.datetime,
                       today: dt.date) -> list[Candidate]:
    return _unconfirmed(session, rule, now, before_expiry=False)


def report_expiring(session: Session, rule: RuleParams, now: dt.datetime,
                    today: dt.date) -> list[Candidate]:
    return _unconfirmed(session, rule, now, before_expiry=True)


def application_in_review(session: Session, rule: RuleParams, now: dt.datetime,
                          today: dt.date) -> list[Candidate]:
    """Applications a caseworker has opened and not yet decided."""
    rows = session.execute(
        select(CardApplication.id, CardApplication.conversation_id)
        .where(CardApplication.status == "received", CardApplication.opened_at.is_not(None),
               CardApplication.opened_at > now - dt.timedelta(days=7),
               CardApplication.conversation_id.is_not(None))).all()
    found = [Candidate(rule.name, "conversation", int(cid), f"a{aid}") for aid, cid in rows]
    return _fresh(session, rule, found, now, dt.timedelta(days=60))


def control_due(session: Session, rule: RuleParams, now: dt.datetime,
                today: dt.date) -> list[Candidate]:
    """Cards whose control falls due on 1 January of a year that starts within
    `delay_hours` (four weeks): the year the console lists them as due (ledger.rules)."""
    ahead = dt.timedelta(hours=rule.delay_hours)
    year = (today + ahead).year
    start = dt.date(year, 1, 1)
    if not start - ahead <= today <= start + dt.timedelta(days=7):
        return []
    base = func.coalesce(Card.last_control_on, Card.issued_on)
    occasion = str(year)
    rows = session.scalars(
        select(Card.id).where(base >= dt.date(year - 2, 1, 1), base <= dt.date(year - 2, 12, 31),
                              _not_recorded(rule.name, literal(occasion), _card_key()))).all()
    return [Candidate(rule.name, "card", int(card_id), occasion, {"year": year})
            for card_id in rows]


def new_year(session: Session, rule: RuleParams, now: dt.datetime,
             today: dt.date) -> list[Candidate]:
    """Every card, once per year, after an operator set that year's cap (not a demo figure,
    not the figures loaded with the software) within the last `delay_hours`: the new amount
    and what is left of it."""
    found: list[Candidate] = []
    for year in (today.year, today.year + 1):
        cap = session.scalar(select(CapVersion).where(CapVersion.year == year)
                             .order_by(CapVersion.id.desc()).limit(1))
        if cap is None or cap.is_demo or cap.actor == REFERENCE_ACTOR \
                or not now - dt.timedelta(hours=rule.delay_hours) <= cap.created_at <= now:
            continue  # loaded with the software, or not set by an operator lately
        occasion = str(year)
        rows = session.execute(
            select(Card.id, func.coalesce(CardBalance.posted_ore, 0))
            .outerjoin(CardBalance, and_(CardBalance.card_id == Card.id, CardBalance.year == year))
            .where(_not_recorded(rule.name, literal(occasion), _card_key()))).all()
        found += [Candidate(rule.name, "card", int(card_id), occasion,
                            {"year": year, "cap_ore": cap.amount_ore,
                             "left_ore": max(cap.amount_ore - int(posted), 0)})
                  for card_id, posted in rows]
    return found


def never_used(session: Session, rule: RuleParams, now: dt.datetime,
               today: dt.date) -> list[Candidate]:
    """Cards with no wage report `delay_hours` after the grant, then every `every_days`."""
    after = dt.timedelta(hours=rule.delay_hours)
    used = exists().where(WageReport.card_id == Card.id)
    rows = session.execute(select(Card.id, Card.issued_on)
                           .where(Card.issued_on <= today - after, ~used)).all()
    every = max(rule.every_days, 1)
    found = [Candidate(rule.name, "card", int(card_id),
                       f"p{(today - issued - after).days // every}")
             for card_id, issued in rows]
    return _fresh(session, rule, found, now, dt.timedelta(days=every))


def cap_thresholds(session: Session, rule: RuleParams, now: dt.datetime,
                   today: dt.date) -> list[Candidate]:
    """Card holders who crossed 80, 95 or 100 % of this year's cap, whoever posted the report;
    one message for the highest mark crossed, the lower ones recorded as covered by it."""
    year = today.year
    rows = session.execute(
        select(CardBalance.card_id, CardBalance.posted_ore, CardBalance.cap_ore)
        .where(CardBalance.year == year, CardBalance.cap_ore > 0,
               CardBalance.posted_ore * 100 >= CardBalance.cap_ore * THRESHOLDS[0])).all()
    done = recorded_keys(session, rule.name, dt.datetime(year, 1, 1, tzinfo=dt.UTC)
                         - dt.timedelta(days=1))
    found = []
    for card_id, posted, cap in rows:
        crossed = [t for t in THRESHOLDS if posted * 100 >= cap * t]
        top = crossed[-1]
        key = f"card:{card_id}"
        if (key, f"{year}:{top}") in done:
            continue
        found.append(Candidate(
            rule.name, "card", int(card_id), f"{year}:{top}",
            {"percent": top, "posted_ore": int(posted), "left_ore": max(int(cap - posted), 0),
             "year": year},
            covers=tuple(f"{year}:{t}" for t in crossed[:-1])))
    return found


def announcement_handled(session: Session, announcement_id: int) -> set[str]:
    """People an announcement has been handled for (sent or skipped), whenever that was."""
    return set(session.scalars(select(OutreachMessage.person_key).where(
        OutreachMessage.rule == "announcement",
        OutreachMessage.occasion == f"a{announcement_id}")))


def announcement_recipients(session: Session, announcement: Announcement) -> list[int]:
    """Card ids an announcement goes to: the municipality's cards in its audience."""
    used = exists().where(WageReport.card_id == Card.id)
    stmt = select(Card.id).where(Card.municipality_code == announcement.municipality_code)
    audience = announcement.audience
    if audience == "active":
        stmt = stmt.where(Card.status == "active")
    elif audience == "used":
        stmt = stmt.where(used)
    elif audience == "never_used":
        stmt = stmt.where(~used)
    else:
        stmt = stmt.where(exists().where(JobDigest.card_id == Card.id))
    return [int(card_id) for card_id in session.scalars(stmt.order_by(Card.id))]


def announcements(session: Session, rule: RuleParams, now: dt.datetime,
                  today: dt.date) -> list[Candidate]:
    """Every scheduled announcement's recipients not yet handled."""
    found = []
    for item in session.scalars(select(Announcement).where(Announcement.status == "scheduled")
                                .order_by(Announcement.id)):
        occasion = f"a{item.id}"
        done = announcement_handled(session, item.id)
        found += [Candidate(rule.name, "card", card_id, occasion, {"text": item.text})
                  for card_id in announcement_recipients(session, item)
                  if f"card:{card_id}" not in done]
    return found


SELECTORS: dict[str, Selector] = {
    "application_in_review": application_in_review,
    "cap_thresholds": cap_thresholds,
    "unconfirmed_report": report_unconfirmed,
    "report_expiring": report_expiring,
    "unfinished_application": unfinished_application,
    "control_due": control_due,
    "new_year": new_year,
    "never_used": never_used,
    "announcement": announcements,
}
"""Each rule's query by its name; a rule in the database without one is never run."""

