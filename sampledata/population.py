"""The people: card holders and their cards, employers, employments, linked phones, applications.

Pure Python, no database: the bulk writer turns these values into rows. Each decision comes
from the plan's seeded generator, in a fixed order, so a seed always gives the same people.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field

from db.reference_data import municipalities
from sampledata import identities
from sampledata.plan import Plan
from sampledata.timeline import DAY, HOUR, Timeline, day, ordinal

FIRST_DAY = ordinal(2019, 1, 1)
"""The socialt frikort began as a trial in 2019: no card is older."""
WEEKLY_HOURS = (2, 3, 4, 5, 8, 10, 12, 15)


@dataclass(slots=True)
class EmployerPlan:
    id: int
    cvr: str
    name: str
    contact_person: str
    phone: str
    home: str
    """The municipality most of its staff live in (not stored: it only steers the choice)."""
    weight: float
    verified: bool
    created_at: int = 0
    verified_at: int | None = None


@dataclass(slots=True)
class EmploymentPlan:
    id: int
    employer: EmployerPlan
    card_id: int
    start: int
    end: int | None
    weekly_hours_centi: int
    hourly_ore: int
    """What the employer pays an hour (not stored: it turns amounts into hours)."""


@dataclass(slots=True)
class CardPlan:
    id: int
    number: str
    cpr: str
    name: str
    municipality: str
    issued_at: int
    valid_from: int
    deactivated_on: int | None = None
    deactivation_reason: str = ""
    last_control_on: int | None = None
    phone: str | None = None
    linked_at: int | None = None
    applied_at: int | None = None
    """When the approved application behind the card arrived, for cards issued lately."""
    employments: list[EmploymentPlan] = field(default_factory=list)

    @property
    def caseworker(self) -> str:
        return f"console:sagsbehandler-{self.municipality}"


@dataclass(slots=True)
class OpenApplication:
    """An application without a card: rejected, or still waiting for a decision."""

    cpr: str
    name: str
    municipality: str
    created_at: int
    decided_at: int | None
    reason: str


@dataclass
class Population:
    cards: list[CardPlan]
    employers: list[EmployerPlan]
    employments: list[EmploymentPlan]
    open_applications: list[OpenApplication]


def build_population(plan: Plan, rng: random.Random, clock: Timeline) -> Population:
    """Card holders, employers and who works for whom, up to yesterday."""
    shares = plan.shares
    codes, weights = _municipality_weights()
    rejected, waiting = _open_counts(plan)
    cprs = identities.cpr_numbers(rng, plan.cards + rejected + waiting)
    numbers = identities.card_numbers(rng, plan.cards)
    phones_taken: set[str] = set()
    cards = [_card(rng, clock, i + 1, numbers[i], cprs[i], rng.choices(codes, weights)[0])
             for i in range(plan.cards)]
    window_start = ordinal(plan.years[0], 1, 1)
    for card in cards:
        _history(card, rng, clock, shares.deactivated, window_start)
    active = [card for card in cards if card.deactivated_on is None]
    linked = rng.sample(active, round(len(active) * shares.linked))
    for card, phone in zip(linked, identities.phone_numbers(rng, len(linked), phones_taken),
                           strict=True):
        card.phone = phone
        card.linked_at = min(card.issued_at + rng.randint(HOUR, 20 * DAY), clock.now - HOUR)
    employers = _employers(plan, rng, codes, weights, phones_taken)
    employments = _employments(plan, rng, clock, cards, employers)
    _employer_times(rng, clock, employers, employments)
    return Population(cards, employers, employments,
                      _open_applications(plan, rng, clock, codes, weights, cprs[plan.cards:]))


def _municipality_weights() -> tuple[list[str], list[float]]:
    bigger = {str(k): float(v) for k, v in identities.words()["municipality_weights"].items()}
    codes = [row["code"] for row in municipalities()]
    return codes, [bigger.get(code, 1.0) for code in codes]


def _card(rng: random.Random, clock: Timeline, card_id: int, number: str, cpr: str,
          municipality: str) -> CardPlan:
    """Issued on a working hour of a day since 2019, more of them lately (the scheme grows)."""
    span = clock.today - 1 - FIRST_DAY
    issued_on = clock.today - 1 - int(span * rng.random() ** 1.6)
    issued_at = clock.at(issued_on, rng.randint(9 * HOUR, 15 * HOUR))
    return CardPlan(id=card_id, number=number, cpr=cpr, name=identities.person_name(rng),
                    municipality=municipality, issued_at=issued_at, valid_from=issued_on)


def _history(card: CardPlan, rng: random.Random, clock: Timeline, deactivated: float,
             window_start: int) -> None:
    """Deactivation (from its decision day), the latest control, the application behind it."""
    last = clock.today - 1
    if rng.random() < deactivated and last - card.valid_from > 60:
        card.deactivated_on = card.valid_from + rng.randint(30, last - card.valid_from)
        card.deactivation_reason = rng.choice(identities.words()["reasons"]["deactivate"])
    control_from = max(ordinal(_year(card.valid_from) + 1, 1, 1),
                       ordinal(_year(clock.today) - 1, 1, 1))
    control_to = (card.deactivated_on or clock.today) - 1
    if control_from <= control_to and rng.random() < 0.7:
        card.last_control_on = rng.randint(control_from, control_to)
    if card.valid_from >= window_start:
        card.applied_at = card.issued_at - rng.randint(2 * DAY, 25 * DAY)


def _year(ordinal_day: int) -> int:
    return day(ordinal_day).year


def _employers(plan: Plan, rng: random.Random, codes: list[str], weights: list[float],
               phones_taken: set[str]) -> list[EmployerPlan]:
    cvrs = identities.cvr_numbers(rng, plan.employers)
    phones = identities.phone_numbers(rng, plan.employers, phones_taken)
    return [EmployerPlan(
        id=i + 1, cvr=cvrs[i], name=identities.employer_name(rng),
        contact_person=identities.person_name(rng), phone=phones[i],
        home=rng.choices(codes, weights)[0], weight=min(rng.paretovariate(1.2), 50.0),
        verified=rng.random() >= plan.shares.unverified_employers or i == 0)
        for i in range(plan.employers)]


class _EmployerPicker:
    """Draws verified employers by popularity, from the card holder's municipality mostly."""

    def __init__(self, employers: list[EmployerPlan]) -> None:
        verified = [e for e in employers if e.verified]
        self._all = _Weighted(verified)
        by_home: dict[str, list[EmployerPlan]] = {}
        for employer in verified:
            by_home.setdefault(employer.home, []).append(employer)
        self._local = {code: _Weighted(found) for code, found in by_home.items()}

    def pick(self, rng: random.Random, municipality: str, local: float) -> EmployerPlan:
        pool = self._local.get(municipality)
        if pool is None or rng.random() >= local:
            pool = self._all
        return pool.pick(rng)


class _Weighted:
    def __init__(self, employers: list[EmployerPlan]) -> None:
        self.employers = employers
        self.cumulative = list(itertools.accumulate(e.weight for e in employers))

    def pick(self, rng: random.Random) -> EmployerPlan:
        point = rng.random() * self.cumulative[-1]
        return self.employers[bisect.bisect_right(self.cumulative, point)
                              if point < self.cumulative[-1] else -1]


def _employments(plan: Plan, rng: random.Random, clock: Timeline, cards: list[CardPlan],
                 employers: list[EmployerPlan]) -> list[EmploymentPlan]:
    """The first employment starts with the card and never ends, so every paid day of a card
    has one; later ones start at random and some end."""
    picker = _EmployerPicker(employers)
    shares = plan.shares
    found: list[EmploymentPlan] = []
    last = clock.today - 1
    for card in cards:
        extra = rng.choices((0, 1, 2), shares.extra_employments)[0]
        chosen: set[int] = set()
        for n in range(1 + extra):
            employer = picker.pick(rng, card.municipality, shares.local_employer)
            if employer.id in chosen:
                continue
            chosen.add(employer.id)
            start = card.valid_from if n == 0 else rng.randint(card.valid_from, last)
            end = None
            if n > 0 and rng.random() < 0.3:
                end = start + rng.randint(30, 400)
                end = end if end < last else None
            employment = EmploymentPlan(
                id=len(found) + 1, employer=employer, card_id=card.id, start=start, end=end,
                weekly_hours_centi=rng.choice(WEEKLY_HOURS) * 100,
                hourly_ore=rng.randint(130, 220) * 100)
            card.employments.append(employment)
            found.append(employment)
    return found


def _employer_times(rng: random.Random, clock: Timeline, employers: list[EmployerPlan],
                   employments: list[EmploymentPlan]) -> None:
    """Registered some weeks before their first employment, verified within two days, so every
    report they make comes from a verified employer. Employers without staff registered at
    some time since the scheme began."""
    first: dict[int, int] = {}
    for employment in employments:
        known = first.get(employment.employer.id)
        if known is None or employment.start < known:
            first[employment.employer.id] = employment.start
    for employer in employers:
        start = first.get(employer.id)
        if start is None:
            start = rng.randint(FIRST_DAY + 60, clock.today - 1)
        registered_on = start - rng.randint(3, 60)
        employer.created_at = clock.at(registered_on, rng.randint(8 * HOUR, 16 * HOUR))
        if employer.verified:
            employer.verified_at = min(employer.created_at + rng.randint(HOUR, 2 * DAY),
                                       clock.now - 60)


def _open_counts(plan: Plan) -> tuple[int, int]:
    """Rejected applications, and applications still waiting: in proportion to the cards."""
    shares = plan.shares
    return (round(plan.cards * shares.rejected_per_card),
            max(1, round(plan.cards * shares.waiting_applications_per_card)))


def _open_applications(plan: Plan, rng: random.Random, clock: Timeline, codes: list[str],
                       weights: list[float], cprs: list[str]) -> list[OpenApplication]:
    """Rejected applications of the last three years and a few still waiting."""
    start = ordinal(plan.years[0], 1, 1)
    rejected, _ = _open_counts(plan)
    reasons = identities.words()["reasons"]["reject"]
    found = []
    for n, cpr in enumerate(cprs):
        if n < rejected:
            created = clock.at(rng.randint(start, clock.today - 2),
                               rng.randint(8 * HOUR, 20 * HOUR))
            decided: int | None = min(created + rng.randint(DAY, 25 * DAY), clock.now - 60)
        else:
            created = clock.at(clock.today - rng.randint(1, 20), rng.randint(8 * HOUR, 20 * HOUR))
            decided = None
        found.append(OpenApplication(cpr=cpr, name=identities.person_name(rng),
                                     municipality=rng.choices(codes, weights)[0],
                                     created_at=created, decided_at=decided,
                                     reason=rng.choice(reasons) if decided else ""))
    return found
