"""A small known world for small jobs (issue 6): the casework world (a verified café in
Aarhus with a phone, Jens in Aarhus with phone and Telegram, Mette in København, staff in
both) plus a second verified employer without any employment, a card holder in Aarhus who
has never worked (Lise), an unverified employer, and a helper at a værested in Aarhus."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from db.commands import Actor
from db.console_tables import StaffUser
from ledger import IssueCard, RegisterEmployer, VerifyEmployer
from smalljobs.commands import PostTask
from smalljobs.records import TaskView
from staff.principal import StaffPrincipal
from tests.ledger.casework_support import AARHUS, World, make_world
from tests.ledger.support import ADMIN, TODAY, fresh_cpr, valid_cvr

HELLE = StaffPrincipal(5, "helle", "Helle fra Værestedet", "helper", AARHUS)
"""A helper at a værested in Aarhus."""
BENT = StaffPrincipal(6, "bent", "Bent Hjælper", "helper", AARHUS)
"""Another helper in Aarhus, with a phone list of his own."""
LISE_PHONE = "+4522334455"
GARDEN_PHONE = "+4540506070"
EMPLOYER = Actor(name="employer", channel="sms")
HOLDER = Actor(name="holder", channel="sms")
FRIDAY = TODAY + dt.timedelta(days=4)
"""2025-06-20, a Friday (TODAY is Monday 16 June 2025)."""


@dataclass
class TaskWorld:
    base: World
    garden: str
    """CVR of "Havehjælp Aarhus", verified, phone GARDEN_PHONE, employs no one."""
    unverified: str
    lise: str
    """Card in Aarhus, phone LISE_PHONE, never employed."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    def post(self, **changes: Any) -> TaskView:
        fields: dict[str, Any] = {
            "employer_cvr": self.garden, "title": "Havearbejde", "postcode": "8000",
            "window_start": FRIDAY, "window_end": FRIDAY, "expected_hours": Decimal(3),
            "pay_per_hour_ore": 150_00, "place": "Vestergade 3"}
        fields.update(changes)
        return self.base.ledger.tasks.post_task(PostTask(**fields), EMPLOYER)

    def outbox(self) -> list[dict[str, Any]]:
        return self.base.rows("outbox")

    def outbox_since(self, before: int) -> list[tuple[str, str]]:
        """(recipient, text) of every message queued after the first `before` ones."""
        return [(row["recipient"], row["text"]) for row in self.outbox()[before:]]


def make_task_world(url: str) -> TaskWorld:
    base = make_world(url)
    ledger = base.ledger
    garden = valid_cvr(21)
    ledger.register_employer(RegisterEmployer(cvr=garden, name="Havehjælp Aarhus",
                                              phone=GARDEN_PHONE), actor=ADMIN)
    ledger.verify_employer(VerifyEmployer(cvr=garden), actor=ADMIN)
    unverified = valid_cvr(22)
    ledger.register_employer(RegisterEmployer(cvr=unverified, name="Ny Firma ApS"),
                             actor=ADMIN)
    lise = ledger.issue_card(IssueCard(
        cpr=fresh_cpr(), name="Lise Marie Holm", municipality_code=AARHUS,
        valid_from=dt.date(2025, 1, 1), phone=LISE_PHONE), actor=ADMIN).number

    def add_helpers(uow: Any) -> None:
        for p in (HELLE, BENT):
            uow.session.add(StaffUser(
                id=p.id, username=p.username, display_name=p.display_name,
                password_hash="not-a-hash", role=p.role, municipality_code=p.municipality_code,
                active=True, session_version=1, created_at=uow.now))
        uow.commit()
    ledger.run_write(add_helpers)
    return TaskWorld(base=base, garden=garden, unverified=unverified, lise=lise)


def stop(world: TaskWorld, channel: str, address: str) -> None:
    """The sender at `address` wrote STOP: their conversation is opted out."""
    world.base.ledger.conversations.turn(channel, address, lambda turn: turn.set_opted_out(True))
