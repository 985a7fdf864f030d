"""Plans to table rows: the column values the service layer would have written.

Generators, so the largest tables are never held twice in memory (once as plans, once as
row dictionaries): the writer takes a batch at a time.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from db.vault import CprVault
from ledger import rules
from ledger.service.link_codes import link_code_hash
from sampledata.history import History
from sampledata.population import CardPlan, Population
from sampledata.talk import Talk
from sampledata.timeline import HOUR, Timeline, day, utc

Row = dict[str, Any]


def citizens(cards: list[CardPlan], vault: CprVault) -> Iterator[Row]:
    for card in cards:
        yield {"id": card.id, "name": card.name, "cpr_hash": vault.lookup_hash(card.cpr),
               "cpr_encrypted": vault.encrypt(card.cpr), "language": "da",
               "municipality_code": card.municipality,
               "created_at": utc(card.applied_at or card.issued_at)}


def cards(plans: list[CardPlan]) -> Iterator[Row]:
    for card in plans:
        yield {"id": card.id, "number": card.number, "citizen_id": card.id,
               "status": "deactivated" if card.deactivated_on else "active",
               "valid_from": day(card.valid_from), "issued_on": day(card.valid_from),
               "municipality_code": card.municipality,
               "last_control_on": day(card.last_control_on) if card.last_control_on else None}


def deactivated_at(card: CardPlan, clock: Timeline) -> int:
    """The deactivation was decided (and written) on the morning of its day."""
    assert card.deactivated_on is not None
    return clock.at(card.deactivated_on, 10 * HOUR)


def controlled_at(card: CardPlan, clock: Timeline) -> int:
    assert card.last_control_on is not None
    return clock.at(card.last_control_on, 11 * HOUR)


def card_events(plans: list[CardPlan], clock: Timeline) -> Iterator[Row]:
    """Issue, deactivation and control, in the order they happened."""
    events: list[tuple[int, int, Row]] = []
    for card in plans:
        base = {"card_id": card.id, "municipality_code": card.municipality,
                "actor": card.caseworker}
        events.append((card.issued_at, card.id, {**base, "kind": "issued",
                       "effective_on": day(card.valid_from), "reason": ""}))
        if card.deactivated_on is not None:
            events.append((deactivated_at(card, clock), card.id, {
                **base, "kind": "deactivated", "effective_on": day(card.deactivated_on),
                "reason": card.deactivation_reason}))
        if card.last_control_on is not None:
            events.append((controlled_at(card, clock), card.id, {
                **base, "kind": "controlled", "effective_on": day(card.last_control_on),
                "reason": ""}))
    events.sort(key=lambda e: (e[0], e[1], e[2]["kind"]))
    for at, _, row in events:
        yield {**row, "created_at": utc(at)}


def link_codes(plans: list[CardPlan], hash_key: bytes, rng: random.Random) -> Iterator[Row]:
    """The grant letter's code, as `issue_card` stores it (its keyed hash only)."""
    for card in plans:
        code = f"{rng.randrange(10_000):04d}"
        yield {"card_id": card.id, "code_hash": link_code_hash(hash_key, card.number, code),
               "created_at": utc(card.issued_at)}


def citizen_contacts(plans: list[CardPlan]) -> Iterator[Row]:
    linked = sorted((c for c in plans if c.phone), key=lambda c: (c.linked_at, c.id))
    for card in linked:
        assert card.linked_at is not None
        yield {"citizen_id": card.id, "kind": "phone", "address": card.phone,
               "created_at": utc(card.linked_at)}


def employers(population: Population) -> Iterator[Row]:
    for e in population.employers:
        yield {"id": e.id, "cvr": e.cvr, "name": e.name, "contact_person": e.contact_person,
               "verified": e.verified,
               "verified_at": utc(e.verified_at) if e.verified_at else None,
               "created_at": utc(e.created_at)}


def employer_contacts(population: Population) -> Iterator[Row]:
    for e in population.employers:
        yield {"employer_id": e.id, "kind": "phone", "address": e.phone,
               "created_at": utc(e.created_at)}


def employment_created(population: Population, clock: Timeline) -> dict[int, int]:
    """When each employment was registered: the morning it began, after its card existed."""
    issued = {card.id: card.issued_at for card in population.cards}
    return {e.id: max(issued[e.card_id] + 600, clock.at(e.start, 10 * HOUR))
            for e in population.employments}


def employments(population: Population, created: dict[int, int]) -> Iterator[Row]:
    for e in population.employments:
        yield {"id": e.id, "employer_id": e.employer.id, "card_id": e.card_id,
               "start_date": day(e.start), "end_date": day(e.end) if e.end else None,
               "weekly_hours_centi": e.weekly_hours_centi,
               "contract_required": rules.contract_required(
                   Decimal(e.weekly_hours_centi) / 100),
               "created_at": utc(created[e.id])}


def wage_reports(history: History, ttl_seconds: int) -> Iterator[Row]:
    for r in history.reports:
        yield {"id": r.id, "employer_id": r.employment.employer.id, "card_id": r.card.id,
               "employment_id": r.employment.id, "year": r.year, "paid_on": day(r.paid_on),
               "work_from": day(r.work_from), "work_to": day(r.work_to),
               "hours_centi": r.hours_centi, "amount_ore": r.amount_ore,
               "post_on_create": r.post_on_create, "expires_at": utc(r.created + ttl_seconds),
               "source_channel": r.channel, "source_message_id": r.message_id,
               "actor": r.actor, "created_at": utc(r.created)}


def ledger_entries(history: History) -> Iterator[Row]:
    for e in history.entries:
        yield {"report_id": e.report.id, "card_id": e.report.card.id, "year": e.report.year,
               "kind": e.kind, "counted_ore": e.counted, "over_cap_ore": e.over_cap,
               "awaiting_delta": 0, "pending_delta": e.pending, "posted_delta": e.posted,
               "over_cap_delta": e.over_cap_delta, "reason": e.reason, "actor": e.actor,
               "created_at": utc(e.created)}


def card_balances(history: History) -> Iterator[Row]:
    for b in sorted(history.balances, key=lambda b: (b.card_id, b.year)):
        yield {"card_id": b.card_id, "year": b.year, "cap_ore": b.cap, "posted_ore": b.posted,
               "pending_ore": b.pending, "over_cap_ore": b.over_cap, "awaiting_ore": 0,
               "entry_count": b.entries}


def card_applications(population: Population, vault: CprVault, words: dict[str, Any],
                      rng: random.Random) -> Iterator[Row]:
    """Approved applications behind the cards issued in the plan's years, rejected ones and
    a few waiting, in the order they arrived."""
    answers = words["application_answers"]
    found: list[tuple[int, Row]] = []
    for card in population.cards:
        if card.applied_at is None:
            continue
        found.append((card.applied_at, {
            "name": card.name, "cpr": card.cpr, "municipality_code": card.municipality,
            "status": "approved", "decision_reason": "", "decided_at": utc(card.issued_at),
            "decided_by": card.caseworker, "card_id": card.id}))
    for application in population.open_applications:
        decided = application.decided_at
        found.append((application.created_at, {
            "name": application.name, "cpr": application.cpr,
            "municipality_code": application.municipality,
            "status": "rejected" if decided else "received",
            "decision_reason": application.reason, "decided_at": utc(decided) if decided else None,
            "decided_by": f"console:sagsbehandler-{application.municipality}" if decided else None,
            "card_id": None}))
    found.sort(key=lambda f: (f[0], f[1]["name"], f[1]["cpr"]))
    for n, (at, row) in enumerate(found):
        cpr = row.pop("cpr")
        wishes = rng.sample(answers["job_wishes"], 2)
        yield {**row, "id": n + 1, "conversation_id": None, "postcode": None,
               "cpr_encrypted": vault.encrypt(cpr), "cpr_hash": vault.lookup_hash(cpr),
               "answers_json": json.dumps({"benefit": rng.choice(answers["benefits"]),
                                           "consent": True, "job_wishes": wishes},
                                          ensure_ascii=False),
               "created_at": utc(at)}


def conversations(talk: Talk) -> Iterator[Row]:
    for c in talk.conversations:
        yield {"id": c.id, "channel": "sms", "address": c.card.phone, "state_json": "{}",
               "handoff": "bot", "opted_out": False, "municipality_code": None,
               "last_activity_at": utc(c.last_activity_at), "created_at": utc(c.created_at)}


def transcript_messages(talk: Talk) -> Iterator[Row]:
    for m in talk.messages:
        yield {"conversation_id": m.conversation.id, "direction": m.direction, "channel": "sms",
               "provider_message_id": m.provider_message_id, "author": m.author,
               "text": m.text, "intent": m.intent, "replies_json": m.replies_json,
               "processed_at": utc(m.at + 1) if m.direction == "in" else None,
               "outbox_id": None, "created_at": utc(m.at)}


def escalations(talk: Talk) -> Iterator[Row]:
    for e in talk.escalations:
        yield {"conversation_id": e.conversation.id, "urgent": False,
               "reason": "asked_for_person", "status": "resolved", "owner": e.owner,
               "created_at": utc(e.created_at), "taken_at": utc(e.taken_at),
               "resolved_at": utc(e.resolved_at), "outcome": "resolved"}
