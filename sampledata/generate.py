"""`generate`: a whole national data set into an empty, migrated database, in one transaction.

The plan is built in Python first (seeded, so the same seed gives the same data; only the
AES-GCM ciphertexts of CPR numbers differ, since every encryption takes a fresh nonce), then
written table by table with the bulk writer. Either everything is written or nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, create_engine, func, select, text

from db import audit_chain
from db.base import table_of
from db.config import LedgerConfig
from db.conversation_tables import (
    CardApplication,
    Conversation,
    Escalation,
    LinkCode,
    TranscriptMessage,
)
from db.engine import make_engines
from db.tables import (
    AuditRecord,
    CapVersion,
    Card,
    CardBalance,
    CardEvent,
    Citizen,
    CitizenContact,
    Employer,
    EmployerContact,
    Employment,
    LedgerEntry,
    WageReport,
)
from db.vault import CprVault
from sampledata import audit, rows
from sampledata.history import History, Limits, build_history
from sampledata.identities import words
from sampledata.plan import DK, DatabaseNotEmpty, InvalidPlan, Plan
from sampledata.population import Population, build_population
from sampledata.talk import Talk, build_talk
from sampledata.timeline import Timeline
from sampledata.writer import BulkWriter

SYNTHETIC_ACTOR = "system:synthetic"
_MUST_BE_EMPTY = (Citizen, Card, Employer, WageReport, CardBalance, Conversation,
                  CardApplication, Escalation)


@dataclass(frozen=True)
class Samples:
    """Who to be in a benchmark (the generator holds the only list of them: no query needed)."""

    linked_holders: tuple[tuple[str, str], ...]
    """(phone, Frikort-ID) of active card holders whose phone is linked."""
    employer_contacts: tuple[tuple[str, str], ...]
    """(phone, CVR) of verified employers with staff."""
    card_numbers: tuple[str, ...]
    municipalities: tuple[tuple[str, int], ...]
    """(code, cards), most cards first."""


@dataclass(frozen=True)
class GenerationReport:
    plan: Plan
    rows: dict[str, int]
    seconds_planning: float
    seconds_writing: float
    cpu_seconds: float
    """This process's CPU time for planning and writing (the database server's is not in it):
    on a busy machine it says more than the wall-clock seconds."""
    seconds_per_table: dict[str, float] = field(default_factory=dict)
    samples: Samples | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass
class _Built:
    population: Population
    history: History
    talk: Talk
    caps: dict[int, int]
    demo_caps: list[int]


def generate(config: LedgerConfig, plan: Plan, *, analyze: bool = True) -> GenerationReport:
    """Writes the plan into the database of `config` (migrated, with no cards or employers).

    Raises DatabaseNotEmpty (nothing written) when the database already holds people, and
    InvalidPlan when no cap is known for a year before the plan's first.
    `analyze`: on PostgreSQL, VACUUM ANALYZE the tables afterwards, as autovacuum would soon.
    """
    engines = make_engines(config)
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        with engines.read.connect() as conn:
            _require_empty(conn)
            caps, demo_caps = _caps(conn, plan)
        built = _build(plan, config, caps, demo_caps)
        planned = time.perf_counter()
        with engines.write.connect() as conn, conn.begin():
            _require_empty(conn)
            writer = BulkWriter(conn)
            _write(writer, plan, config, built)
            writer.move_sequences()
        written = time.perf_counter()
        if analyze and engines.write.dialect.name == "postgresql":
            _vacuum_analyze(engines.write, sorted(writer.rows))
        return GenerationReport(
            plan=plan, rows=writer.rows, seconds_planning=planned - started,
            seconds_writing=time.perf_counter() - planned,
            cpu_seconds=time.process_time() - cpu_started,
            seconds_per_table={**writer.seconds, "vacuum_analyze": time.perf_counter() - written},
            samples=_samples(built))
    finally:
        engines.dispose()


def _require_empty(conn: Connection) -> None:
    for model in _MUST_BE_EMPTY:
        table = table_of(model)
        if conn.scalar(select(func.count()).select_from(table)):
            raise DatabaseNotEmpty(f"table {table.name} already has rows")


def _caps(conn: Connection, plan: Plan) -> tuple[dict[int, int], list[int]]:
    """The cap in force per year of the plan; a year without one gets the newest earlier cap,
    labelled as a demo value (as `frikort demo seed` does), and is returned in the list."""
    caps_table = table_of(CapVersion)
    newest: dict[int, int] = dict(conn.execute(
        select(caps_table.c.year, caps_table.c.amount_ore)
        .order_by(caps_table.c.year, caps_table.c.id)).tuples().all())
    found: dict[int, int] = {}
    demo: list[int] = []
    for year in plan.years:
        if year in newest:
            found[year] = int(newest[year])
            continue
        earlier = [y for y in newest if y < year]
        if not earlier:
            raise InvalidPlan(f"no cap is known for {year} or any year before it")
        found[year] = int(newest[max(earlier)])
        demo.append(year)
    return found, demo


def _build(plan: Plan, config: LedgerConfig, caps: dict[int, int],
           demo_caps: list[int]) -> _Built:
    clock = Timeline(plan.now)
    population = build_population(plan, random.Random(f"{plan.seed}:population"), clock)
    limits = Limits(config.pending_ttl_seconds, config.max_report_ore, config.max_hours_per_day)
    history = build_history(plan, random.Random(f"{plan.seed}:history"), clock,
                            population.cards, caps, limits, words()["reasons"])
    talk = build_talk(plan, random.Random(f"{plan.seed}:talk"), clock, population.cards,
                      words())
    return _Built(population, history, talk, caps, demo_caps)


def _write(writer: BulkWriter, plan: Plan, config: LedgerConfig, built: _Built) -> None:
    vault = CprVault(config.cpr_encryption_key, config.cpr_hash_key)
    clock = Timeline(plan.now)
    people, history, talk = built.population, built.history, built.talk
    rng = random.Random(f"{plan.seed}:rows")
    cap_events = _demo_caps(writer, plan, built)
    writer.write(table_of(Citizen), rows.citizens(people.cards, vault))
    writer.write(table_of(Card), rows.cards(people.cards))
    writer.write(table_of(CardEvent), rows.card_events(people.cards, clock))
    writer.write(table_of(LinkCode),
                 rows.link_codes(people.cards, config.cpr_hash_key, rng))
    writer.write(table_of(CitizenContact), rows.citizen_contacts(people.cards))
    writer.write(table_of(Employer), rows.employers(people))
    writer.write(table_of(EmployerContact), rows.employer_contacts(people))
    created = rows.employment_created(people, clock)
    writer.write(table_of(Employment), rows.employments(people, created))
    applications = list(rows.card_applications(people, vault, words(), rng))
    writer.write(table_of(CardApplication), applications)
    writer.write(table_of(WageReport),
                 rows.wage_reports(history, config.pending_ttl_seconds))
    writer.write(table_of(LedgerEntry), rows.ledger_entries(history))
    writer.write(table_of(CardBalance), rows.card_balances(history))
    writer.write(table_of(Conversation), rows.conversations(talk))
    writer.write(table_of(TranscriptMessage), rows.transcript_messages(talk))
    first_escalation = writer.next_id(table_of(Escalation))
    writer.write(table_of(Escalation), rows.escalations(talk))
    approved = {row["card_id"]: row["id"] for row in applications if row["card_id"]}
    events = audit.population_events(people, clock, created, approved)
    _, head = audit_chain.tail(writer.conn)
    writer.write(table_of(AuditRecord), audit_chain.chained(audit.audit_rows(
        cap_events, events, audit.application_events(applications),
        audit.history_events(history), audit.talk_events(talk, first_escalation)),
        first_id=writer.next_id(table_of(AuditRecord)), prev_hash=head))


def _demo_caps(writer: BulkWriter, plan: Plan, built: _Built) -> list[audit.Event]:
    """Cap versions for the plan's years without a published cap, set on 1 January."""
    source = str(words()["demo_cap_source"])
    events: list[audit.Event] = []
    cap_rows = []
    for year in built.demo_caps:
        at = dt.datetime(year, 1, 1, tzinfo=DK)
        cap_rows.append({"year": year, "amount_ore": built.caps[year], "source": source,
                         "is_demo": True, "actor": SYNTHETIC_ACTOR, "created_at": at})
        events.append((int(at.timestamp()), 0, SYNTHETIC_ACTOR, "cap.set", "cap", str(year),
                       audit.details(amount_ore=built.caps[year], is_demo=True, released=0,
                                      source=source)))
    writer.write(table_of(CapVersion), cap_rows)
    return events


def _vacuum_analyze(engine: Engine, tables: list[str]) -> None:
    """What autovacuum would do shortly after a bulk load: statistics and visibility maps."""
    autocommit = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    try:
        with autocommit.connect() as conn:
            for name in tables:
                conn.execute(text(f"VACUUM ANALYZE {name}"))
    finally:
        autocommit.dispose()


def _samples(built: _Built) -> Samples:
    people = built.population
    staffed = {e.employer.id for e in people.employments}
    per_municipality = Counter(card.municipality for card in people.cards)
    return Samples(
        linked_holders=tuple((c.phone, c.number) for c in people.cards
                             if c.phone and c.deactivated_on is None),
        employer_contacts=tuple((e.phone, e.cvr) for e in people.employers
                                if e.verified and e.id in staffed),
        card_numbers=tuple(c.number for c in people.cards),
        municipalities=tuple(sorted(per_municipality.items(), key=lambda kv: (-kv[1], kv[0]))))
