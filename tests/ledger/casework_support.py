"""A small known world for the console's service layer: two municipalities, their staff,
card holders with phones, an employer, and conversations made through the bot's own Turn."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from api.bootstrap import Backend
from conversations.records import ApplicationAnswers
from db.base import Base
from db.console_tables import StaffUser
from db.errors import DomainError
from ledger import CreateEmployment, IssueCard, RegisterEmployer, VerifyEmployer
from staff.principal import StaffPrincipal
from tests.ledger.support import (
    ADMIN,
    FakeClock,
    dump_tables,
    fast_ledger,
    fresh_cpr,
    raw_engine,
    refused,
    valid_cvr,
)

AARHUS, KBH = "751", "101"
SARA = StaffPrincipal(1, "sara", "Sara Holm", "caseworker", AARHUS)
"""Caseworker in Aarhus."""
KIM = StaffPrincipal(2, "kim", "Kim Berg", "caseworker", KBH)
"""Caseworker in København."""
OLE = StaffPrincipal(3, "ole", "Ole Vang", "employer_consultant", AARHUS)
"""Employer consultant in Aarhus."""
ADA = StaffPrincipal(4, "ada", "Ada Admin", "admin", None)
JENS_PHONE, METTE_PHONE = "+4520304050", "+4521436587"
JENS_TELEGRAM = "7770001"
_message_ids = itertools.count(1)


@dataclass
class World:
    url: str
    ledger: Backend
    clock: FakeClock
    cvr: str
    jens: str
    """Card in Aarhus, phone and Telegram linked."""
    mette: str
    """Card in København, phone linked."""
    jens_cpr: str

    def say(self, channel: str, address: str, text: str, *, intent: str | None = "greet",
            replies: tuple[str, ...] = ("Hej!",)) -> int:
        """An inbound message, stored and processed as the bot does it; returns its id."""
        conversations = self.ledger.conversations
        stored = conversations.store_inbound(channel, address, f"p{next(_message_ids)}", text)

        def finish(turn: Any) -> None:
            turn.remember_identity()
            for reply in replies:
                turn.record_reply(reply)
            turn.finish_inbound(stored.id, intent, replies)
        conversations.turn(channel, address, finish)
        return stored.id

    def escalate(self, channel: str, address: str, *, urgent: bool = False,
                 reason: str = "asked_for_person", text: str = "kan jeg tale med et menneske"
                 ) -> int:
        self.say(channel, address, text, intent="human_handoff")
        return int(self.ledger.conversations.turn(
            channel, address, lambda turn: turn.escalate(urgent=urgent, reason=reason)))

    def apply(self, channel: str, address: str, *, name: str = "Lone Jensen",
              cpr: str | None = None, municipality: str | None = AARHUS,
              **answers: Any) -> int:
        """An application as the bot's apply flow submits it."""
        filled = {"benefit": "kontanthjælp", "consent": True, "job_wishes": ["café", "lager"],
                  "contact": "sms", "helper": "Min bostøtte Per", "channel": channel,
                  "address": address, "cpr_later": cpr is None, **answers}
        submitted = ApplicationAnswers(name=name, cpr=cpr, postcode="8000",
                                       municipality_code=municipality, answers=filled)
        return int(self.ledger.conversations.turn(
            channel, address, lambda turn: turn.submit_application(submitted)))

    def rows(self, table: str, **where: Any) -> list[dict[str, Any]]:
        target = Base.metadata.tables[table]
        engine = raw_engine(self.url)
        try:
            with engine.connect() as conn:
                stmt = sa.select(target).where(*[target.c[k] == v for k, v in where.items()])
                return [dict(r._mapping) for r in conn.execute(stmt.order_by(*target.primary_key))]
        finally:
            engine.dispose()

    def audit(self, action: str) -> list[dict[str, Any]]:
        return self.rows("audit_log", action=action)


def make_world(url: str) -> World:
    clock = FakeClock()
    ledger = fast_ledger(url, clock)
    _add_staff(ledger)
    cvr = valid_cvr(11)
    ledger.register_employer(RegisterEmployer(cvr=cvr, name="Café Solsikken ApS",
                                              phone="+4531425364", contact_person="Lone Berg"),
                             actor=ADMIN)
    ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    jens_cpr = fresh_cpr()
    start = dt.date(2025, 1, 1)
    jens = ledger.issue_card(IssueCard(cpr=jens_cpr, name="Jens Hansen", municipality_code=AARHUS,
                                       valid_from=start, phone=JENS_PHONE,
                                       telegram_id=JENS_TELEGRAM), actor=ADMIN).number
    mette = ledger.issue_card(IssueCard(cpr=fresh_cpr(), name="Mette Ørsted",
                                        municipality_code=KBH, valid_from=start,
                                        phone=METTE_PHONE), actor=ADMIN).number
    for number in (jens, mette):
        ledger.create_employment(CreateEmployment(employer_cvr=cvr, card_number=number,
                                                  start_date=start, weekly_hours=Decimal(5)),
                                 actor=ADMIN)
    return World(url=url, ledger=ledger, clock=clock, cvr=cvr, jens=jens, mette=mette,
                 jens_cpr=jens_cpr)


def _add_staff(ledger: Backend) -> None:
    def add(uow: Any) -> None:
        for p in (SARA, KIM, OLE, ADA):
            uow.session.add(StaffUser(
                id=p.id, username=p.username, display_name=p.display_name,
                password_hash="not-a-hash", role=p.role, municipality_code=p.municipality_code,
                active=True, session_version=1, created_at=uow.now))
        uow.commit()
    ledger.run_write(add)


def unchanged(world: World, code: str, call: Callable[[], Any]) -> DomainError:
    """A refusal with this code that leaves every table exactly as it was."""
    before = dump_tables(world.url)
    error = refused(code, call)
    assert dump_tables(world.url) == before
    return error
