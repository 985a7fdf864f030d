"""Records for the small-job page tests: a verified employer with a phone, card holders in
municipality A (751, Aarhus) and B (101, København), and a task on each side.

    world = build(console_env)   tasks: world.task_a (Havearbejde in 8000, one place) and
                                 world.task_b (Flytning in 1050, two places); nobody on them
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from api.bootstrap import Backend
from db.base import Base
from ledger import DeactivateCard, IssueCard, RegisterEmployer, VerifyEmployer
from smalljobs.commands import PostTask
from tests.api.console.conftest import MUNICIPALITY_A, MUNICIPALITY_B, ConsoleEnv
from tests.ledger.support import ADMIN, fresh_cpr, raw_engine, valid_cvr

JENS, METTE, BENTE, OLE = "11111", "12121", "22222", "13131"
"""Jens Hansen and Mette Madsen (A, phones), Bente Brandt (B, phone), Ole Olsen (A, no
phone, deactivated)."""
NAMES = {JENS: "Jens Hansen", METTE: "Mette Madsen", BENTE: "Bente Brandt",
         OLE: "Ole Olsen"}
PHONES = {JENS: "+4520304050", METTE: "+4521436587", BENTE: "+4522446688"}
EMPLOYER_PHONE = "+4531425364"
START = dt.date(2025, 6, 20)
"""A Friday, four days after the test clock's today (16.06.2025)."""


@dataclass
class World:
    cvr: str
    """Havefirmaet Grøn Hånd ApS: verified, phone EMPLOYER_PHONE."""
    unverified_cvr: str
    task_a: int
    task_b: int


def post(ledger: Backend, cvr: str, title: str, postcode: str, *, places: int = 1,
         audience: str = "open", days: int = 0, start: dt.date = START) -> int:
    return ledger.tasks.post_task(PostTask(
        employer_cvr=cvr, title=title, postcode=postcode, window_start=start,
        window_end=start + dt.timedelta(days=days), expected_hours=Decimal("3"),
        pay_per_hour_ore=150_00, places=places, audience=audience,  # type: ignore[arg-type]  # callers pass an Audience
        place="Baghaven"), actor=ADMIN).id


def build(env: ConsoleEnv) -> World:
    ledger = env.ledger
    cvr, unverified = valid_cvr(21), valid_cvr(22)
    ledger.register_employer(RegisterEmployer(cvr=cvr, name="Havefirmaet Grøn Hånd ApS",
                                              contact_person="Lone Berg",
                                              phone=EMPLOYER_PHONE), actor=ADMIN)
    ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    ledger.register_employer(RegisterEmployer(cvr=unverified, name="Ukendt Firma ApS"),
                             actor=ADMIN)
    for number, name in NAMES.items():
        ledger.issue_card(IssueCard(
            cpr=fresh_cpr(), name=name, number=number, phone=PHONES.get(number),
            municipality_code=MUNICIPALITY_B if number == BENTE else MUNICIPALITY_A,
            valid_from=dt.date(2025, 1, 1)), actor=ADMIN)
    ledger.deactivate_card(DeactivateCard(number=OLE, reason="test"), actor=ADMIN)
    return World(cvr=cvr, unverified_cvr=unverified,
                 task_a=post(ledger, cvr, "Havearbejde", "8000"),
                 task_b=post(ledger, cvr, "Flytning", "1050", places=2))


def rows(url: str, table: str) -> list[dict[str, object]]:
    """Every row of one table, oldest first."""
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            found = Base.metadata.tables[table]
            return [dict(r._mapping) for r in conn.execute(
                sa.select(found).order_by(*found.primary_key.columns))]
    finally:
        engine.dispose()


def outbox_to(url: str, recipient: str) -> list[str]:
    """The texts queued for one phone number, oldest first."""
    return [str(r["text"]) for r in rows(url, "outbox") if r["recipient"] == recipient]
