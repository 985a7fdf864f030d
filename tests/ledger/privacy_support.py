"""A small world for the data-protection tests: one card holder with a history, one stranger.

Jens (a card holder, linked by phone) has a posted wage report, an SMS conversation with a
reply sent and a notification still waiting, an escalation with a caseworker's note, and a
decided application sent from a Telegram chat before he had a card. A stranger (never linked
to any CPR number) has a conversation and an undecided application of her own.
`add_task_history` gives Jens small jobs of every kind, beside a second card holder's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from api.bootstrap import Backend
from conversations.records import ApplicationAnswers
from conversations.turn import Turn
from db.base import Base
from db.commands import Actor
from db.console_tables import StaffUser
from ledger import CreateEmployment, IssueCard, RegisterEmployer, VerifyEmployer
from smalljobs.commands import PostTask
from staff.principal import StaffPrincipal
from tests.ledger.support import (
    ADMIN,
    FakeClock,
    dump_tables,
    fast_ledger,
    fresh_cpr,
    raw_engine,
    valid_cvr,
    wage,
)

JENS_PHONE = "+4520304050"
JENS_TELEGRAM = "777001"
STRANGER_PHONE = "+4521436587"
KEPT_TABLES = ("wage_reports", "ledger_entries", "card_events", "cap_versions",
               "idempotency_records", "card_balances", "cards", "employments", "employers",
               "municipalities", "link_codes")
"""Never touched by retention or erasure (the audit log only grows)."""


@dataclass
class World:
    url: str
    ledger: Backend
    clock: FakeClock
    cpr: str
    card: str
    cvr: str
    jens_sms_conversation: int
    jens_telegram_conversation: int
    stranger_conversation: int
    jens_application: int
    stranger_application: int

    def rows(self, table: str, order: str = "id") -> list[dict[str, Any]]:
        engine = raw_engine(self.url)
        try:
            with engine.connect() as conn:
                t = Base.metadata.tables[table]
                stmt = sa.select(t).order_by(t.c[order]) if order in t.c else sa.select(t)
                return [dict(r._mapping) for r in conn.execute(stmt)]
        finally:
            engine.dispose()

    def execute(self, statement: str, **params: object) -> None:
        engine = raw_engine(self.url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(statement), params)
        finally:
            engine.dispose()

    def db_time(self, value: dt.datetime) -> dt.datetime:
        """What a raw statement binds: SQLite keeps naive UTC (as the ledger's column type)."""
        return value if self.url.startswith("postgresql") else value.replace(tzinfo=None)

    def kept(self) -> dict[str, list[tuple[object, ...]]]:
        tables = dump_tables(self.url)
        return {name: tables[name] for name in KEPT_TABLES}

    def say(self, channel: str, address: str, sid: str, text: str, reply: str, *,
            queue: bool = False, extra: Any = None) -> int:
        """One inbound message answered in a turn, as the bot would store it."""
        stored = self.ledger.conversations.store_inbound(channel, address, sid, text)

        def answer(turn: Turn) -> None:
            turn.state["flow"] = {"name": "demo", "slots": {"said": text}}
            turn.record_reply(reply, queue=queue, buttons=("JA", "NEJ") if queue else ())
            turn.finish_inbound(stored.id, "demo_intent", (reply,))
            if extra is not None:
                extra(turn)
            turn.save_state()

        self.ledger.conversations.turn(channel, address, answer)
        return stored.conversation_id


def build_world(url: str) -> World:
    clock = FakeClock()
    ledger = fast_ledger(url, clock)
    cvr = valid_cvr(77)
    ledger.register_employer(RegisterEmployer(cvr=cvr, name="Café Privat ApS"), actor=ADMIN)
    ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    cpr = fresh_cpr()
    world = World(url=url, ledger=ledger, clock=clock, cpr=cpr, card="", cvr=cvr,
                  jens_sms_conversation=0, jens_telegram_conversation=0,
                  stranger_conversation=0, jens_application=0, stranger_application=0)

    # Before the card: Jens applies from Telegram.
    applied: list[int] = []
    world.jens_telegram_conversation = world.say(
        "telegram", JENS_TELEGRAM, "tg-1", "jeg vil søge et frikort", "Hvad er dit fulde navn?",
        queue=True, extra=lambda turn: applied.append(turn.submit_application(ApplicationAnswers(
            name="Jens Testesen", cpr=cpr, postcode="8000", municipality_code="751",
            answers={"benefit": "kontanthjælp", "consent": True, "job_wishes": ["opvask"],
                     "contact": "skriv på telegram", "helper": "min søster Lone",
                     "channel": "telegram", "address": JENS_TELEGRAM, "cpr_later": False}))))
    world.jens_application = applied[0]

    card = ledger.issue_card(IssueCard(cpr=cpr, name="Jens Testesen", municipality_code="751",
                                       valid_from=dt.date(2025, 1, 1), phone=JENS_PHONE),
                             actor=ADMIN)
    world.card = card.number
    world.execute("UPDATE card_applications SET status = 'approved', decided_at = :at, "
                  "decided_by = 'sagsbehandler', card_id = (SELECT id FROM cards WHERE "
                  "number = :number) WHERE id = :id", at=world.db_time(clock.now),
                  number=card.number, id=world.jens_application)
    ledger.create_employment(CreateEmployment(employer_cvr=cvr, card_number=card.number,
                                              start_date=dt.date(2025, 1, 1),
                                              weekly_hours=Decimal("4")), actor=ADMIN)
    ledger.report_wage(wage(cvr, card.number, 600_00, "privacy-1", post=True), actor=ADMIN)

    # Jens writes by SMS: a reply goes out through the outbox and is sent; a notification
    # stays pending; he asks for a person, and a caseworker writes a note.
    escalated: list[int] = []
    world.jens_sms_conversation = world.say(
        "sms", JENS_PHONE, "SM-1", "hej jeg hedder Jens og bor på Vestergade 3",
        "Hej Jens, hvad kan jeg hjælpe med?", queue=True,
        extra=lambda turn: escalated.append(turn.escalate(urgent=False, reason="asked")))
    [item] = ledger.conversations.claim_outbox(10, ("sms",))
    ledger.conversations.mark_sent(item.id, "SMprovider1")
    ledger.conversations.turn("sms", JENS_PHONE, lambda turn: turn.notify_card_holder(
        card.number, "Café Privat ApS har indberettet 600,00 kr. på dit frikort."))
    world.execute("INSERT INTO escalation_notes (escalation_id, author, text, created_at) "
                  "VALUES (:e, 'sagsbehandler', 'Ringede til Jens om hans søster', :at)",
                  e=escalated[0], at=world.db_time(clock.now))

    # A stranger, never linked to a CPR number, with an undecided application.
    stranger_applied: list[int] = []
    world.stranger_conversation = world.say(
        "sms", STRANGER_PHONE, "SM-2", "jeg hedder Karen og vil søge", "Tak, Karen.",
        extra=lambda turn: stranger_applied.append(turn.submit_application(ApplicationAnswers(
            name="Karen Fremmed", cpr=None, postcode="2100", municipality_code="101",
            answers={"benefit": "førtidspension", "consent": True, "job_wishes": ["have"],
                     "contact": "sms", "helper": None, "channel": "sms",
                     "address": STRANGER_PHONE, "cpr_later": True}))))
    world.stranger_application = stranger_applied[0]
    return world


# Small jobs ----------------------------------------------------------------------------------

HELPER = StaffPrincipal(41, "helle", "Helle fra Værestedet", "helper", "751")
JENS_CONSENT = "Jens sagde ja til småjobs på værestedet"
TAKE_CONSENT = "Jens bad Helle melde ham til opvasken"
OLE_CONSENT = "Ole vil gerne have havearbejde"
TASK_EMPLOYER = Actor(name="sms:employer", channel="sms")
TASK_HOLDER = Actor(name="sms:holder", channel="sms")


@dataclass
class TaskHistory:
    """Jens's places by how they ended, and Ole (another card holder) beside him."""

    ole_card: str
    paid: int
    """Taken by the helper, confirmed, hours reported: tied to a wage report."""
    cancelled: int
    no_show: int
    """Taken by the helper, then the employer said he did not come."""
    held: int
    """Confirmed, the work not done yet."""
    ole_place: int
    report_id: int


def _task(world: World, title: str, days: int) -> int:
    start = world.clock.now.date() + dt.timedelta(days=days)
    return world.ledger.tasks.post_task(PostTask(
        employer_cvr=world.cvr, title=title, postcode="8000", window_start=start,
        window_end=start, expected_hours=Decimal(3), pay_per_hour_ore=150_00, places=2,
        place="Bagdøren, Vestergade 9"), TASK_EMPLOYER).id


def add_task_history(world: World) -> TaskHistory:
    """Gives Jens a place of every kind, an employer's list, a digest and a phone list, and
    Ole (a second card holder) a place, a digest and a phone-list entry of his own."""
    ledger, tasks = world.ledger, world.ledger.tasks

    def add_helper(uow: Any) -> None:
        uow.session.add(StaffUser(
            id=HELPER.id, username=HELPER.username, display_name=HELPER.display_name,
            password_hash="not-a-hash", role=HELPER.role,
            municipality_code=HELPER.municipality_code, active=True, session_version=1,
            created_at=uow.now))
        uow.commit()
    ledger.run_write(add_helper)
    ole = ledger.issue_card(IssueCard(cpr=fresh_cpr(), name="Ole Olsen", municipality_code="751",
                                      valid_from=dt.date(2025, 1, 1), phone="+4522446688"),
                            actor=ADMIN).number
    tasks.add_to_phone_list(HELPER, world.card, JENS_CONSENT)
    tasks.add_to_phone_list(HELPER, ole, OLE_CONSENT)
    tasks.add_known_person(world.cvr, world.card, TASK_EMPLOYER)
    tasks.subscribe_digest(world.card, "8000", "daily", TASK_HOLDER)
    tasks.subscribe_digest(ole, "8200", "weekly", TASK_HOLDER)

    dishes, garden, move, paint = (_task(world, title, days) for title, days in (
        ("Opvask", 0), ("Havearbejde", 2), ("Flytning", 3), ("Maling", 5)))
    paid = tasks.take_task(dishes, world.card, via="helper", actor=HELPER.actor,
                           helper=HELPER.username, consent_note=TAKE_CONSENT).id
    tasks.confirm_assignment(paid, employer_cvr=world.cvr, actor=TASK_EMPLOYER)
    report = tasks.record_task_hours(paid, employer_cvr=world.cvr, hours=Decimal(3),
                                     amount_ore=450_00, actor=TASK_EMPLOYER,
                                     idempotency_key="task-hours-1")
    cancelled = tasks.take_task(garden, world.card, via="sms", actor=TASK_HOLDER).id
    tasks.cancel_assignment(cancelled, by="holder", actor=TASK_HOLDER, card_number=world.card)
    no_show = tasks.take_task(move, world.card, via="helper", actor=HELPER.actor,
                              helper=HELPER.username, consent_note=TAKE_CONSENT).id
    tasks.mark_no_show(no_show, employer_cvr=world.cvr, actor=TASK_EMPLOYER)
    held = tasks.take_task(paint, world.card, via="helper", actor=HELPER.actor,
                           helper=HELPER.username, consent_note=TAKE_CONSENT).id
    tasks.confirm_assignment(held, employer_cvr=world.cvr, actor=TASK_EMPLOYER)
    ole_place = tasks.take_task(garden, ole, via="helper", actor=HELPER.actor,
                                helper=HELPER.username, consent_note=OLE_CONSENT).id
    tasks.cancel_assignment(ole_place, by="employer", actor=TASK_EMPLOYER,
                            employer_cvr=world.cvr)
    return TaskHistory(ole_card=ole, paid=paid, cancelled=cancelled, no_show=no_show,
                       held=held, ole_place=ole_place, report_id=report.id)


def places_add_up(world: World) -> None:
    """Every task's count of places taken is its reserved, confirmed and done places."""
    assignments = world.rows("task_assignments")
    for task in world.rows("tasks"):
        holding = [a for a in assignments if a["task_id"] == task["id"]
                   and a["status"] in ("reserved", "confirmed", "done")]
        assert task["places_taken"] == len(holding), task["title"]
