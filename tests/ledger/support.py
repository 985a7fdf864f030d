"""Building blocks for ledger tests: a ledger on a fresh database with a controllable clock."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from decimal import Decimal

from ledger import (
    Actor,
    CreateEmployment,
    IssueCard,
    Ledger,
    LedgerConfig,
    RegisterEmployer,
    SetCap,
    VerifyEmployer,
    upgrade,
)

ADMIN = Actor(name="test-admin", channel="api")
TODAY = dt.date(2025, 6, 16)


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
    return LedgerConfig(**base)  # type: ignore[arg-type]


def make_ledger(url: str, clock: FakeClock | None = None, **overrides: object) -> Ledger:
    upgrade(url)
    return Ledger(make_config(url, **overrides), clock=clock or FakeClock())


def valid_cvr(seed: int) -> str:
    """A mod-11 valid CVR number derived from a seed (weights 2,7,6,5,4,3,2,1)."""
    rng = random.Random(seed)
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(6)]
        weighted = sum(w * d for w, d in zip((2, 7, 6, 5, 4, 3, 2), digits, strict=True))
        check = (-weighted) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


_cpr_counter = itertools.count(1)


def fresh_cpr() -> str:
    """A date-valid CPR number, different on every call within the test run."""
    n = next(_cpr_counter)
    day = 1 + n % 28
    month = 1 + (n // 28) % 12
    return f"{day:02d}{month:02d}80{1000 + n % 9000:04d}"


def employer_with_card(
    ledger: Ledger, *, seed: int = 1, cards: int = 1, municipality: str = "751",
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


def set_cap(ledger: Ledger, year: int, kroner: int) -> None:
    ledger.set_cap(SetCap(year=year, amount_ore=kroner * 100, source="test source"), actor=ADMIN)
