"""Consent and restraint, in one place: whether a person may be written to now.

Every outreach message passes `refusal` in the transaction that sends it (called by
`ledger.outreach.delivery` with the facts it read under the person's lock); the sweep asks
`quiet_hours` before it starts. A refusal for STOP, INGEN PÅMINDELSER, an inactive card or no
linked contact is recorded with its reason and never sent later (it would be stale by then);
quiet hours and the weekly limit only hold a message back until a later sweep.

    quiet hours        nothing outside 09:00-20:00 Danish time; the sweep then waits and
                       the morning's first sweep sends what is due (crisis replies and
                       answers to a person's own message are not outreach: they go at once)
    STOP               no outreach at all until START, on any of the person's channels
    INGEN PÅMINDELSER  no reminders (rules marked `reminder`); the bot still answers
    weekly limit       at most 2 outreach messages per person in any 7 days
    card               a deactivated card gets no job or cap messages (`needs_active_card`)
    contact            only the person's own linked channel now: a number that was changed
                       or unlinked gets nothing, and the web chat cannot be written to
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from outreach.rules import spec
from outreach.store.records import Candidate, ConsentFacts, Refusal

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
FIRST_HOUR, LAST_HOUR = 9, 20
WEEKLY_LIMIT = 2


def quiet_hours(at: dt.datetime) -> bool:
    """True outside 09:00-20:00 in Denmark: no outreach is written then."""
    return not FIRST_HOUR <= at.astimezone(COPENHAGEN).hour < LAST_HOUR


def next_allowed(at: dt.datetime) -> dt.datetime:
    """When a message held back at `at` may go: at once in the day, else the next 09:00."""
    local = at.astimezone(COPENHAGEN)
    if not quiet_hours(at):
        return at
    day = local.date() if local.hour < FIRST_HOUR else local.date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, FIRST_HOUR, tzinfo=COPENHAGEN)


def refusal(candidate: Candidate, facts: ConsentFacts) -> Refusal | None:
    """None when the message may be sent; else the reason (a stable code) it may not. Quiet
    hours and the weekly limit only hold a message back: the rule proposes it again at the
    next sweep for as long as it still applies (its own window), and it goes then."""
    rule = spec(candidate.rule)
    if quiet_hours(facts.now):
        return Refusal("quiet_hours", later=True)
    if facts.opted_out:
        return Refusal("stop")
    if rule.reminder and facts.reminders_off:
        return Refusal("no_reminders")
    if rule.needs_active_card and facts.card_status != "active":
        return Refusal("card_not_active")
    if facts.recipient is None:
        return Refusal("no_linked_contact")
    if facts.sent_last_week >= WEEKLY_LIMIT:
        return Refusal("weekly_limit", later=True)
    return None
