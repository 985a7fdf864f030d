"""The senders of a load run and their identities, written through the `Ledger` facade.

Half the senders are card holders (linked by phone, or by Telegram id), a tenth are verified
employers employing five of them each, and the rest are numbers the ledger does not know
(they ask rule questions and apply for a card); some holders and unknown numbers call the
phone line instead of texting (channel "voice": a phone number, seeded as an SMS sender's).
Everything goes through the ledger's own commands, so the data obeys every rule the server
relies on; on PostgreSQL the writes are spread over a few processes to keep seeding 10.000
senders near a minute.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from stdnum.dk import cvr as stdnum_cvr

from api.bootstrap import Backend
from db.commands import Actor
from db.config import LedgerConfig
from ledger import CreateEmployment, IssueCard, RegisterEmployer, SetCap, VerifyEmployer
from smalljobs.commands import PostTask
from smalljobs.posting import MAX_PLACES

__all__ = ["Population", "Sender", "plan_population", "seed_population"]

ACTOR = Actor(name="load-bench-seed", channel="system")
EMPLOYEES_PER_EMPLOYER = 5
POSTCODES = ("8000", "2200", "5000", "9000")
"""One postcode per municipality the holders live in (Aarhus, København, Odense, Aalborg)."""
MUNICIPALITY = {"8000": "751", "2200": "101", "5000": "461", "9000": "851"}
TASKS_PER_POSTCODE = 3

Role = Literal["holder", "employer", "unknown"]
Channel = Literal["sms", "telegram", "voice"]


@dataclass(frozen=True)
class Sender:
    """One sender: an E.164 phone (SMS, or a caller) or a Telegram chat id, and what the
    ledger knows."""

    role: Role
    channel: Channel
    address: str
    index: int
    card: str | None = None
    postcode: str = ""
    cvr: str | None = None
    employees: tuple[str, ...] = ()


@dataclass(frozen=True)
class Population:
    holders: tuple[Sender, ...]
    employers: tuple[Sender, ...]
    unknowns: tuple[Sender, ...]

    @property
    def size(self) -> int:
        return len(self.holders) + len(self.employers) + len(self.unknowns)

    def count(self, role: Role, channel: Channel) -> int:
        group = {"holder": self.holders, "employer": self.employers,
                 "unknown": self.unknowns}[role]
        return sum(1 for sender in group if sender.channel == channel)


def _address(role: Role, channel: Channel, i: int) -> str:
    """Phones in +4526/27/28 xxxxxx (every number there is a valid Danish mobile number)."""
    prefix = {"holder": 26, "employer": 27, "unknown": 28}[role]
    if channel != "telegram":
        return f"+45{prefix}{i:06d}"
    return str(700_000_000 + prefix * 1_000_000 + i)


def _cvrs(count: int) -> list[str]:
    found: list[str] = []
    candidate = 30_000_000
    while len(found) < count:
        if stdnum_cvr.is_valid(str(candidate)):
            found.append(str(candidate))
        candidate += 7
    return found


def plan_population(senders: int, *, telegram_share: float = 0.3,
                    voice_share: float = 0.1) -> Population:
    """Who sends: deterministic, so the generator knows every identity without asking.
    ``voice_share`` of the holders and unknown numbers not on Telegram call instead (they
    need not be many: about 5 % of the messages are calls, see traffic.yml)."""
    if senders < 20:
        raise ValueError("a load run needs at least 20 senders")
    n_employers = max(2, senders // 10)
    n_holders = min(senders // 2, n_employers * EMPLOYEES_PER_EMPLOYER)
    n_unknowns = senders - n_employers - n_holders
    every = max(2, round(1 / telegram_share)) if telegram_share > 0 else 0
    every_call = max(2, round(1 / voice_share)) if voice_share > 0 else 0

    def channel(i: int, *, calls: bool = False) -> Channel:
        if every and i % every == every - 1:
            return "telegram"
        return "voice" if calls and every_call and i % every_call == 0 else "sms"

    holders = tuple(
        Sender("holder", channel(i, calls=True), _address("holder", channel(i), i), i,
               card=f"{10_000 + i}", postcode=POSTCODES[i % len(POSTCODES)])
        for i in range(n_holders))
    cvrs = _cvrs(n_employers)
    employers = tuple(
        Sender("employer", channel(i), _address("employer", channel(i), i), i, cvr=cvrs[i],
               employees=tuple(h.card or "" for h in holders[
                   i * EMPLOYEES_PER_EMPLOYER:(i + 1) * EMPLOYEES_PER_EMPLOYER]))
        for i in range(n_employers))
    unknowns = tuple(Sender("unknown", channel(i, calls=True),
                            _address("unknown", channel(i), i), i) for i in range(n_unknowns))
    return Population(holders, employers, unknowns)


def _cpr(i: int) -> str:
    """A date-valid CPR number, distinct for i < 13.440 (born 1950-1989)."""
    day, month, year = 1 + i % 28, 1 + (i // 28) % 12, 50 + (i // 336) % 40
    return f"{day:02d}{month:02d}{year:02d}{1000 + i % 3000:04d}"


def _issue_cards(config: LedgerConfig, holders: Sequence[Sender], valid_from: dt.date) -> int:
    ledger = Backend(config)
    try:
        for h in holders:
            ledger.issue_card(IssueCard(
                cpr=_cpr(h.index), name=f"Borger {h.index}",
                municipality_code=MUNICIPALITY[h.postcode], valid_from=valid_from,
                phone=h.address if h.channel != "telegram" else None,
                telegram_id=h.address if h.channel == "telegram" else None,
                number=h.card), actor=ACTOR)
    finally:
        ledger.close()
    return len(holders)


def _register_employers(config: LedgerConfig, employers: Sequence[Sender]) -> int:
    ledger = Backend(config)
    try:
        for e in employers:
            assert e.cvr is not None
            ledger.register_employer(RegisterEmployer(
                cvr=e.cvr, name=f"Loadfirma {e.index} ApS", contact_person=f"Kontakt {e.index}",
                phone=e.address if e.channel != "telegram" else None,
                telegram_id=e.address if e.channel == "telegram" else None), actor=ACTOR)
            ledger.verify_employer(VerifyEmployer(cvr=e.cvr), actor=ACTOR)
    finally:
        ledger.close()
    return len(employers)


def _employ(config: LedgerConfig, employers: Sequence[Sender], start: dt.date) -> int:
    ledger = Backend(config)
    done = 0
    try:
        for e in employers:
            assert e.cvr is not None
            for card in e.employees:
                ledger.create_employment(CreateEmployment(
                    employer_cvr=e.cvr, card_number=card, start_date=start,
                    weekly_hours=Decimal("4")), actor=ACTOR)
                done += 1
    finally:
        ledger.close()
    return done


def _chunks(items: Sequence[Sender], parts: int) -> list[Sequence[Sender]]:
    size = max(1, -(-len(items) // parts))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _fan_out(pool: ProcessPoolExecutor | None, work: Callable[..., int], config: LedgerConfig,
             items: Sequence[Sender], parts: int, *args: object) -> int:
    if pool is None:
        return work(config, items, *args)
    futures = [pool.submit(work, config, chunk, *args) for chunk in _chunks(items, parts * 4)]
    return sum(f.result() for f in futures)


def seed_population(config: LedgerConfig, population: Population, today: dt.date, *,
                    processes: int = 1) -> dict[str, int]:
    """Writes the population (and the year's cap, and open tasks) into a migrated, empty
    database; returns how many of each were written."""
    ledger = Backend(config)
    try:
        if not any(cap.year == today.year for cap in ledger.caps()):
            latest = max(ledger.caps(), key=lambda cap: cap.year)
            ledger.set_cap(SetCap(year=today.year, amount_ore=latest.amount_ore, is_demo=True,
                                  source=f"LOAD-BENCH: {latest.year}-beløbet som pladsholder"),
                           actor=ACTOR)
    finally:
        ledger.close()
    valid_from = today - dt.timedelta(days=120)
    pool = (ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
            if processes > 1 else None)
    try:
        counts = {
            "employers": _fan_out(pool, _register_employers, config, population.employers,
                                  processes),
            "cards": _fan_out(pool, _issue_cards, config, population.holders, processes,
                              valid_from),
            "employments": _fan_out(pool, _employ, config, population.employers, processes,
                                    valid_from),
        }
    finally:
        if pool is not None:
            pool.shutdown()
    counts["tasks"] = _post_tasks(config, population, today)
    return counts


def _post_tasks(config: LedgerConfig, population: Population, today: dt.date) -> int:
    """Open small jobs near every holder, so JOB lists something (places enough for all)."""
    ledger = Backend(config)
    posted = 0
    try:
        for n, postcode in enumerate(POSTCODES * TASKS_PER_POSTCODE):
            employer = population.employers[n % len(population.employers)]
            assert employer.cvr is not None
            start = today + dt.timedelta(days=1 + n % 3)
            ledger.tasks.post_task(PostTask(
                employer_cvr=employer.cvr, title=f"Opgave {n + 1}: oprydning og lager",
                place="Lageret", postcode=postcode, window_start=start,
                window_end=start + dt.timedelta(days=4), expected_hours=Decimal("2"),
                pay_per_hour_ore=140_00, places=MAX_PLACES), actor=ACTOR)
            posted += 1
    finally:
        ledger.close()
    return posted
