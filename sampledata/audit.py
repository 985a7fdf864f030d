"""The audit log of the synthetic history: one row for each change the services audit, with
the same action names and details, in time order (so ids grow with time, as they do live).

Expiries are not audited (the service does not audit them either).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sampledata import rows
from sampledata.history import History
from sampledata.population import Population
from sampledata.talk import Talk
from sampledata.timeline import Timeline, day, utc

Event = tuple[int, int, str, str, str, str, str]
"""(at, order, actor, action, entity type, entity id, details as JSON)."""
API_ACTOR = "api:admin"


def details(**values: Any) -> str:
    return json.dumps(values, default=str, sort_keys=True)


def population_events(population: Population, clock: Timeline,
                      employment_created: dict[int, int],
                      application_ids: dict[int, int]) -> list[Event]:
    """Cards issued (with the application approved in the same transaction), deactivations,
    controls, employers registered and verified, employments created."""
    events: list[Event] = []
    for card in population.cards:
        worker = card.caseworker
        events.append((card.issued_at, 0, worker, "card.issue", "card", card.number,
                       details(municipality=card.municipality)))
        if card.id in application_ids:
            events.append((card.issued_at, 1, worker, "application.approve", "application",
                           str(application_ids[card.id]),
                           details(card=card.number, contact_linked=False,
                                    cpr_given_by_caseworker=False, message_queued=False)))
        if card.deactivated_on is not None:
            events.append((rows.deactivated_at(card, clock), 0, worker, "card.deactivated",
                           "card", card.number,
                           details(effective_on=day(card.deactivated_on).isoformat(),
                                    reason=card.deactivation_reason)))
        if card.last_control_on is not None:
            events.append((rows.controlled_at(card, clock), 0, worker, "card.control", "card",
                           card.number,
                           details(controlled_on=day(card.last_control_on).isoformat())))
    for employer in population.employers:
        events.append((employer.created_at, 0, API_ACTOR, "employer.register", "employer",
                       employer.cvr, "{}"))
        if employer.verified_at is not None:
            events.append((employer.verified_at, 0, f"console:konsulent-{employer.home}",
                           "employer.verify", "employer", employer.cvr, "{}"))
    cvr_of = {e.id: e.employer.cvr for e in population.employments}
    number_of = {card.id: card.number for card in population.cards}
    for employment in population.employments:
        events.append((employment_created[employment.id], 0, API_ACTOR, "employment.create",
                       "employment", str(employment.id),
                       details(card=number_of[employment.card_id],
                                employer=cvr_of[employment.id])))
    events.sort()
    return events


def history_events(history: History) -> Iterator[Event]:
    """What the wage-report commands audit, in the entries' time order."""
    for entry in history.entries:
        report = entry.report
        if entry.kind in ("post_direct", "reserve"):
            status = "posted" if entry.kind == "post_direct" else "pending"
            yield (entry.created, 0, entry.actor, "wage_report.create", "wage_report",
                   str(report.id), details(amount_ore=report.amount_ore,
                                            counted_ore=entry.counted, status=status))
        elif entry.kind == "post":
            yield (entry.created, 0, entry.actor, "wage_report.post", "wage_report",
                   str(report.id), "{}")
        elif entry.kind in ("void", "reverse"):
            yield (entry.created, 0, entry.actor, f"wage_report.{entry.kind}", "wage_report",
                   str(report.id), details(reason=entry.reason))


def application_events(applications: list[rows.Row]) -> list[Event]:
    """Rejections (approvals are written with their card, see `population_events`)."""
    events: list[Event] = []
    for row in applications:
        if row["status"] == "rejected":
            events.append((int(row["decided_at"].timestamp()), 0, row["decided_by"],
                           "application.reject", "application", str(row["id"]),
                           details(message_queued=False)))
    events.sort()
    return events


def talk_events(talk: Talk, first_escalation_id: int) -> list[Event]:
    """A caseworker took each escalation and resolved it."""
    events: list[Event] = []
    for n, escalation in enumerate(talk.escalations):
        escalation_id = str(first_escalation_id + n)
        events.append((escalation.taken_at, 0, escalation.owner, "escalation.take", "escalation",
                       escalation_id, details(previous_owner=None)))
        events.append((escalation.resolved_at, 0, escalation.owner, "escalation.resolved",
                       "escalation", escalation_id, "{}"))
    events.sort()
    return events


def audit_rows(*streams: Iterable[Event]) -> Iterator[rows.Row]:
    """The streams (each in time order) merged into audit_log rows, oldest first."""
    for at, _, actor, action, entity_type, entity_id, details in heapq.merge(*streams):
        yield {"at": utc(at), "actor": actor, "channel": actor.split(":", 1)[0],
               "action": action, "entity_type": entity_type, "entity_id": entity_id,
               "details_json": details}
