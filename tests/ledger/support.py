"""Building blocks for ledger tests: a ledger on a fresh database with a controllable clock."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from api.bootstrap import Backend
from db.base import Base
from db.compiled_sql import PROCESS_COMPILED_SQL
from db.commands import Actor
from db.config import LedgerConfig
from db.errors import DomainError
from db.migrate import upgrade
from ledger import (
    CreateEmployment,
    IssueCard,
    RegisterEmployer,
    ReportWage,
    SetCap,
    VerifyEmployer,
    WageReportResult,
)
from tests import databases

ADMIN = Actor(name="test-admin", channel="api")
TODAY = dt.date(2025, 6, 16)
YESTERDAY = TODAY - dt.timedelta(days=1)
TOMORROW = TODAY + dt.timedelta(days=1)
CAP_2025 = 42_766_00


@dataclass
class FakeClock:
    """A clock the test moves by hand; starts at noon on TODAY (UTC)."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime(2025, 6, 16, 12, tzinfo=dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def make_config(url: str, **overrides: object) -> LedgerConfig:
    base: dict[str, object] = {
        "database_url": url,
        "cpr_encryption_key": bytes(range(32)),
        "cpr_hash_key": b"test-hash-key",
    }
    base.update(overrides)
    return LedgerConfig(**base)  # type: ignore[arg-type]  # LedgerConfig fields, overridden by callers


def make_ledger(url: str, clock: FakeClock | None = None, **overrides: object) -> Backend:
    upgrade(url)
    return Backend(make_config(url, **overrides), clock=clock or FakeClock())


def valid_cvr(seed: int) -> str:
    """A mod-11 valid CVR number derived from a seed (weights 2,7,6,5,4,3,2,1)."""
    rng = random.Random(seed)
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(6)]
        weighted = sum(w * d for w, d in zip((2, 7, 6, 5, 4, 3, 2), digits, strict=True))
        check = (-weighted) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


NO_SUCH_CARD = "09999"
"""A well-formed Frikort-ID that no test database holds: the ledger draws its numbers from
10000-99999 (ledger/service/cards.py), so a fixed number in that range, say 11111, is one of a
test's own random cards about once in 90.000 cards issued."""

_cpr_counter = itertools.count(1)


def fresh_cpr() -> str:
    """A date-valid CPR number, different on every call within the test run."""
    n = next(_cpr_counter)
    day = 1 + n % 28
    month = 1 + (n // 28) % 12
    return f"{day:02d}{month:02d}80{1000 + n % 9000:04d}"


def employer_with_card(
    ledger: Backend, *, seed: int = 1, cards: int = 1, municipality: str = "751",
    valid_from: dt.date = dt.date(2025, 1, 1), weekly_hours: str = "5",
) -> tuple[str, list[str]]:
    """A verified employer employing `cards` fresh card holders since valid_from."""
    cvr = valid_cvr(seed)
    ledger.register_employer(RegisterEmployer(cvr=cvr, name=f"Firma {seed}"), actor=ADMIN)
    ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    numbers = []
    for i in range(cards):
        card = ledger.issue_card(
            IssueCard(cpr=fresh_cpr(), name=f"Borger {seed}-{i}", municipality_code=municipality,
                      valid_from=valid_from), actor=ADMIN)
        ledger.create_employment(
            CreateEmployment(employer_cvr=cvr, card_number=card.number, start_date=valid_from,
                             weekly_hours=Decimal(weekly_hours)), actor=ADMIN)
        numbers.append(card.number)
    return cvr, numbers


def set_cap(ledger: Backend, year: int, kroner: int) -> None:
    ledger.set_cap(SetCap(year=year, amount_ore=kroner * 100, source="test source"), actor=ADMIN)


# Added for the ledger verification suite ---------------------------------------------------


def wage(
    cvr: str, card: str, amount_ore: int, key: str, *, post: bool = False,
    paid_on: dt.date | None = None, hours: str = "2", **extra: object,
) -> ReportWage:
    """A wage report command with sensible defaults (paid TODAY, two hours)."""
    return ReportWage(employer_cvr=cvr, card_number=card, paid_on=paid_on or TODAY,
                      hours=Decimal(hours), amount_ore=amount_ore, idempotency_key=key,
                      post=post, **extra)  # type: ignore[arg-type]  # ReportWage fields from the callers


def raw_engine(url: str) -> sa.Engine:
    """A plain engine of its own, outside the ledger, for looking at (or poking) the tables
    (its statements compiled once per process, as the ledger's are)."""
    return sa.create_engine(url, poolclass=sa.pool.NullPool,
                            execution_options={"compiled_cache": PROCESS_COMPILED_SQL})


def table_counts(url: str) -> dict[str, int]:
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            return {name: int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
                    for name, table in Base.metadata.tables.items()}
    finally:
        engine.dispose()


def dump_tables(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every ledger table, as the database returns it."""
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            return {name: [tuple(row) for row in conn.execute(sa.select(table))]
                    for name, table in Base.metadata.tables.items()}
    finally:
        engine.dispose()


def audit_rows(url: str) -> list[dict[str, object]]:
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            table = Base.metadata.tables["audit_log"]
            rows = conn.execute(sa.select(table).order_by(table.c.id))
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


@dataclass
class Env:
    """A ledger on a fresh database with one verified employer employing one card holder."""

    url: str
    ledger: Backend
    clock: FakeClock
    cvr: str
    card: str

    def report(self, amount_ore: int, key: str, **kwargs: object) -> WageReportResult:
        card = str(kwargs.pop("card", self.card))
        actor = kwargs.pop("actor", ADMIN)
        return self.ledger.report_wage(wage(self.cvr, card, amount_ore, key, **kwargs),  # type: ignore[arg-type]  # wage()'s keywords from the callers
                                       actor=actor)  # type: ignore[arg-type]  # an Actor unless a test passes another


def prepare_database(url: str) -> None:
    """Migrates the database at `url`. A fresh SQLite file is copied from the migrated template
    and a PostgreSQL copy from tests/databases.py is migrated already (the migrations take a
    second or more; a copy takes milliseconds); any other database is upgraded."""
    if not databases.materialise(url, databases.MIGRATED):
        upgrade(url)


def fast_ledger(url: str, clock: FakeClock | None = None, **overrides: object) -> Backend:
    """`make_ledger`, with the SQLite template shortcut."""
    prepare_database(url)
    return Backend(make_config(url, **overrides), clock=clock or FakeClock())


def make_env(url: str, *, cards: int = 1, **overrides: object) -> Env:
    clock = FakeClock()
    ledger = fast_ledger(url, clock, **overrides)
    cvr, numbers = employer_with_card(ledger, cards=cards)
    return Env(url=url, ledger=ledger, clock=clock, cvr=cvr, card=numbers[0])


def refused(code: str, call: Callable[[], Any]) -> DomainError:
    """Runs `call`, expects the refusal with this stable code, and checks its Danish message."""
    with pytest.raises(DomainError) as info:
        call()
    exc = info.value
    assert exc.code == code, f"expected {code}, got {exc.code} ({exc})"
    message = exc.message  # every placeholder filled, or this raises KeyError
    assert message and "{" not in message
    return exc


def unchanged(env: Env, call: Callable[[], Any], code: str) -> DomainError:
    """A refusal must leave every table exactly as it was."""
    before = dump_tables(env.url)
    exc = refused(code, call)
    assert dump_tables(env.url) == before
    return exc


def to_2026(env: Env) -> None:
    """Moves the clock into 2026, a year whose cap is not in the shipped table."""
    env.clock.now = dt.datetime(2026, 2, 2, 12, tzinfo=dt.UTC)


def world_fixture(build: Callable[[str], Any], *,
                  ledger: Callable[[Any], Backend] = lambda made: made.ledger,
                  check: Callable[[Any], None] | None = None, on: str = "db_url") -> Any:
    """The `world` fixture of a test module, on SQLite and on PostgreSQL (`db_url`), or on
    the database fixture named by `on` (e.g. "sqlite_url" where a subprocess must share it):

        world = world_fixture(make_task_world)

    builds the world with `build(url)`, hands it to the test, then runs `check` (if any),
    asserts the ledger's invariants and closes the ledger, whether the test passed or not."""

    def run(url: str) -> Iterator[Any]:
        made = build(url)
        its_ledger = ledger(made)
        try:
            yield made
            if check is not None:
                check(made)
            assert its_ledger.check_invariants() == []
        finally:
            its_ledger.close()

    if on == "db_url":  # parametrized (SQLite, PostgreSQL): must be requested by name
        @pytest.fixture
        def world(db_url: str) -> Iterator[Any]:
            yield from run(db_url)
        return world

    @pytest.fixture
    def world_on(request: pytest.FixtureRequest) -> Iterator[Any]:
        yield from run(request.getfixturevalue(on))
    return world_on


def statements_run(call: Callable[[], Any]) -> tuple[Any, list[str]]:
    """The statements `call` runs: on this thread only, since another test's background work
    in the same worker process (a template database being prepared) may run meanwhile."""
    seen: list[str] = []
    caller = threading.get_ident()

    def count(conn: object, cursor: object, statement: str, *_: object) -> None:
        if threading.get_ident() == caller:
            seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        result = call()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
    return result, seen
