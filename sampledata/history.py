"""Three years of wage reports, their ledger entries and the balances they add up to.

Each card-year is played forward in time as the service would have handled it: a new report
is counted against the cap with `rules.split_against_cap` (what fits counts, the rest is
over-cap), a reservation is later confirmed, voided or expires, and a few posted reports are
reversed. The entries carry exactly the movements the service writes, and the materialised
balance is their sum, so `Ledger.check_invariants()` holds and no card-year ever has more
than its cap posted and pending.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ledger import rules
from sampledata.plan import InvalidPlan, Plan
from sampledata.population import CardPlan, EmploymentPlan
from sampledata.timeline import DAY, HOUR, Timeline, ordinal

SYSTEM_ACTOR = "system:maintenance"
"""The server's background loop, which expires reservations (as api/scheduler.py)."""
_FAR = 10**9


@dataclass(slots=True)
class Report:
    created: int
    card: CardPlan
    employment: EmploymentPlan
    year: int
    paid_on: int
    work_from: int
    work_to: int
    hours_centi: int
    amount_ore: int
    post_on_create: bool
    channel: str
    actor: str
    message_id: str | None
    id: int = 0
    counted: int = 0
    over_cap: int = 0


@dataclass(slots=True)
class Entry:
    created: int
    report: Report
    kind: str
    actor: str
    counted: int = 0
    over_cap: int = 0
    pending: int = 0
    posted: int = 0
    over_cap_delta: int = 0
    reason: str = ""


@dataclass(slots=True)
class BalancePlan:
    card_id: int
    year: int
    cap: int
    posted: int = 0
    pending: int = 0
    over_cap: int = 0
    entries: int = 0


@dataclass
class History:
    reports: list[Report]
    """In arrival order; `id` is the position plus one."""
    entries: list[Entry]
    """In time order."""
    balances: list[BalancePlan]


@dataclass(frozen=True)
class Limits:
    """What the ledger's configuration allows (`LedgerConfig`)."""

    pending_ttl_seconds: int
    max_report_ore: int
    max_hours_per_day: int


def build_history(plan: Plan, rng: random.Random, clock: Timeline, cards: list[CardPlan],
                  caps: dict[int, int], limits: Limits, words: dict[str, list[str]]) -> History:
    """Exactly `plan.reports` reports, spread over the card-years in use."""
    card_years = _card_years(plan, clock, cards)
    if not card_years:
        raise InvalidPlan("no card was active in the years of the plan")
    used = [cy for cy in card_years if rng.random() < plan.shares.card_year_used] or card_years
    weights = [(last - first + 1) / 365 * rng.uniform(0.3, 3.0) for _, _, first, last in used]
    player = _Player(plan, rng, clock, caps, limits, words)
    for (card, year, first, last), count in zip(used, apportion(plan.reports, weights),
                                                strict=True):
        if count:
            player.play(card, year, first, last, count)
    player.reports.sort(key=lambda r: (r.created, r.card.id, r.paid_on))
    for index, report in enumerate(player.reports):
        report.id = index + 1
    player.entries.sort(key=lambda e: (e.created, e.report.id))
    return History(player.reports, player.entries, player.balances)


def _card_years(plan: Plan, clock: Timeline,
                cards: list[CardPlan]) -> list[tuple[CardPlan, int, int, int]]:
    """(card, year, first day, last day) for every year a card could be paid in, to yesterday."""
    found = []
    for card in cards:
        for year in plan.years:
            first = max(ordinal(year, 1, 1), card.valid_from)
            last = min(ordinal(year, 12, 31), clock.today - 1, (card.deactivated_on or _FAR) - 1)
            if first <= last:
                found.append((card, year, first, last))
    return found


def apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder): the parts add up exactly."""
    whole = sum(weights)
    quotas = [total * w / whole for w in weights]
    parts = [math.floor(q) for q in quotas]
    short = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - quotas[i], i))
    for i in by_remainder[:short]:
        parts[i] += 1
    return parts


class _Player:
    """Plays card-years forward, collecting reports, entries and balances."""

    def __init__(self, plan: Plan, rng: random.Random, clock: Timeline, caps: dict[int, int],
                 limits: Limits, words: dict[str, list[str]]) -> None:
        self.rng = rng
        self.clock = clock
        self.caps = caps
        self.limits = limits
        self.shares = plan.shares
        self.words = words
        self.reports: list[Report] = []
        self.entries: list[Entry] = []
        self.balances: list[BalancePlan] = []
        self._fractions = [(f.low, f.high) for f in plan.shares.cap_fractions]
        self._fraction_weights = [f.weight for f in plan.shares.cap_fractions]
        self._channels = [name for name, _ in plan.shares.channels]
        self._channel_weights = [weight for _, weight in plan.shares.channels]

    def play(self, card: CardPlan, year: int, first: int, last: int, count: int) -> None:
        rng = self.rng
        cap = self.caps[year]
        low, high = rng.choices(self._fractions, self._fraction_weights)[0]
        target = rng.uniform(low, high) * cap
        raw = [rng.expovariate(1.0) + 0.25 for _ in range(count)]
        per_raw = target / sum(raw)
        days = sorted(rng.randint(first, last) for _ in range(count))
        reports = [self._report(card, year, paid, share * per_raw) for paid, share in
                   zip(days, raw, strict=True)]
        self._replay(card, year, cap, reports)

    def _report(self, card: CardPlan, year: int, paid: int, wanted: float) -> Report:
        rng = self.rng
        amount = max(50_00, min(self.limits.max_report_ore, round(wanted / 100) * 100))
        if rng.random() < 0.3:
            amount = min(self.limits.max_report_ore, amount + 50)
        employment = rng.choice([e for e in card.employments
                                 if e.start <= paid and (e.end is None or e.end >= paid)])
        hours = max(25, round(amount * 100 / employment.hourly_ore / 25) * 25)
        work_to = max(employment.start, paid - rng.choice((0, 0, 1, 2, 3)))
        if employment.end is not None:
            work_to = min(work_to, employment.end)
        work_from = max(employment.start, work_to - math.ceil(hours / 750) + 1)
        hours = min(hours, self.limits.max_hours_per_day * 100 * (work_to - work_from + 1))
        created = (self.clock.midnight(paid + rng.choice((0, 0, 0, 1, 1, 2, 5)))
                   + rng.randint(7 * HOUR, 21 * HOUR))
        if created > self.clock.now - 60:  # reported in the hours up to now instead
            created = rng.randint(min(self.clock.midnight(paid) + 7 * HOUR,
                                      self.clock.now - 120), self.clock.now - 60)
        channel = rng.choices(self._channels, self._channel_weights)[0]
        cvr = employment.employer.cvr
        actor, message_id = {
            "api": ("api:admin", None),
            "sms": (f"sms:{cvr}", f"SM{rng.getrandbits(128):032x}"),
            "telegram": (f"telegram:{cvr}", str(rng.randint(1, 2**31))),
        }[channel]
        return Report(created=created, card=card, employment=employment, year=year,
                      paid_on=paid, work_from=work_from, work_to=work_to, hours_centi=hours,
                      amount_ore=amount, post_on_create=rng.random() < self.shares.post_direct,
                      channel=channel, actor=actor, message_id=message_id)

    def _follow_ups(self, report: Report) -> list[tuple[int, int, str]]:
        """What happens to a report after it arrives: (time, order, kind), up to now."""
        rng, shares, now = self.rng, self.shares, self.clock.now - 1
        ttl = self.limits.pending_ttl_seconds
        found: list[tuple[int, int, str]] = []
        posted_at: int | None = report.created if report.post_on_create else None
        if not report.post_on_create:
            pending_share = 1 - shares.post_direct
            draw = rng.random() * pending_share
            quick = min(3 * DAY, ttl // 2)
            if draw < shares.voided:
                at = report.created + rng.randint(60, quick)
                if at <= now:
                    found.append((at, 1, "void"))
            elif draw < shares.voided + shares.expired:
                # The server's loop expires a reservation the moment it is due (and before
                # any report that arrives in the same second is counted).
                if report.created + ttl <= now:
                    found.append((report.created + ttl, -1, "expire"))
            else:
                at = report.created + min(int(rng.expovariate(1 / (6 * HOUR))) + 60, quick)
                if at <= now:
                    found.append((at, 1, "post"))
                    posted_at = at
        if posted_at is not None and rng.random() < shares.reversed:
            at = posted_at + rng.randint(DAY, 60 * DAY)
            if at <= now:
                found.append((at, 2, "reverse"))
        return found

    def _replay(self, card: CardPlan, year: int, cap: int, reports: list[Report]) -> None:
        events: list[tuple[int, int, int, str]] = []
        for index, report in enumerate(reports):
            events.append((report.created, 0, index, "create"))
            events.extend((at, order, index, kind) for at, order, kind in
                          self._follow_ups(report))
        events.sort()
        balance = BalancePlan(card_id=card.id, year=year, cap=cap)
        reasons = self.words
        for at, _, index, kind in events:
            report = reports[index]
            if kind == "create":
                split = rules.split_against_cap(report.amount_ore,
                                                balance.posted + balance.pending, cap)
                report.counted, report.over_cap = split.counted, split.over_cap
                if report.post_on_create:
                    entry = Entry(at, report, "post_direct", report.actor, counted=split.counted,
                                  over_cap=split.over_cap, posted=split.counted,
                                  over_cap_delta=split.over_cap)
                else:
                    entry = Entry(at, report, "reserve", report.actor, counted=split.counted,
                                  over_cap=split.over_cap, pending=split.counted)
            elif kind == "post":
                entry = Entry(at, report, "post", report.actor, pending=-report.counted,
                              posted=report.counted, over_cap_delta=report.over_cap)
            elif kind == "void":
                entry = Entry(at, report, "void", report.actor, pending=-report.counted,
                              reason=self.rng.choice(reasons["void"]))
            elif kind == "expire":
                entry = Entry(at, report, "expire", SYSTEM_ACTOR, pending=-report.counted)
            else:
                entry = Entry(at, report, "reverse", card.caseworker, posted=-report.counted,
                              over_cap_delta=-report.over_cap,
                              reason=self.rng.choice(reasons["reverse"]))
            balance.pending += entry.pending
            balance.posted += entry.posted
            balance.over_cap += entry.over_cap_delta
            balance.entries += 1
            self.entries.append(entry)
        self.reports.extend(reports)
        self.balances.append(balance)
