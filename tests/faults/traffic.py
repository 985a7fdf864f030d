"""Load for the fault tests: seeded identities, and signed Twilio webhook posts sent like Twilio.

``seed_population`` prepares, through the Ledger facade and before the server starts, verified
employers that employ linked card holders (each with a phone). ``scripts_for`` turns them into
per-sender scripts: employers report wages over several turns ("indberet ... frikort N", then
"ja", which posts the report and queues an SMS to the card holder through the outbox) and card
holders ask for their balance. ``TrafficDriver`` plays the scripts from many senders at a steady
overall rate: each message gets a unique MessageSid; a message that does not get a 200 (an error
status or a broken connection, e.g. while the server is killed) is posted again with the same
sid, as Twilio does, until it is answered or the retry deadline passes. A sender's next message
waits for the previous one's 200, so every conversation is well defined.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
import sqlalchemy as sa

from api.bootstrap import Backend
from conversations.records import OutboxView
from db.commands import Actor
from db.conversation_tables import TranscriptMessage
from db.tables import WageReport
from db.unit_of_work import UnitOfWork
from ledger import CreateEmployment, IssueCard, RegisterEmployer, SetCap, VerifyEmployer
from tests.api.channel_fixtures import (
    TWILIO_SMS_PATH,
    TWILIO_TOKEN,
    twilio_params,
    twilio_signature,
    twiml_messages,
)
from tests.fakes.twilio_api import FakeTwilio
from tests.ledger.support import fresh_cpr, valid_cvr

__all__ = ["Attempt", "EmployerSeed", "MessageRecord", "Population", "PostedReport",
           "SenderScript", "StoredInbound", "TrafficDriver", "delivered", "outbox_rows",
           "report_body", "reports_by_status", "scripts_for", "seed_population",
           "stored_inbound", "wait_until_drained"]

SEED_ACTOR = Actor(name="fault-test-seed", channel="system")
TWILIO_TIMEOUT_S = 15.0
"""Twilio gives up on a webhook after 15 seconds."""
REPORT_HOURS = "2"


# --- identities ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EmployerSeed:
    cvr: str
    phone: str
    cards: tuple[str, ...]
    """Card numbers of the holders it employs."""


@dataclass(frozen=True)
class Population:
    employers: tuple[EmployerSeed, ...]
    holders: dict[str, str]
    """Card number -> the holder's phone."""
    year: int


def _phone(prefix: int, index: int) -> str:
    """A Danish mobile number in a range of its own per role (``+45`` + 8 digits)."""
    return f"+45{prefix:02d}{index:06d}"


def seed_population(ledger: Backend, today: dt.date, *, employers: int = 8,
                    holders_per_employer: int = 2, salt: int = 0) -> Population:
    """Verified employers with phones, each employing fresh card holders with phones.

    The current year's cap is set (copied from the newest sourced year) if missing, so
    balances have a remaining amount. ``salt`` keeps CVR numbers apart between calls.
    """
    _ensure_cap(ledger, today.year)
    seeded: list[EmployerSeed] = []
    holders: dict[str, str] = {}
    valid_from = today - dt.timedelta(days=30)
    for e in range(employers):
        cvr = valid_cvr(10_000 + salt * 1000 + e)
        phone = _phone(26, salt * 1000 + e)
        ledger.register_employer(RegisterEmployer(cvr=cvr, name=f"Fejltest {e} ApS",
                                                  phone=phone, contact_person=f"Leder {e}"),
                                 actor=SEED_ACTOR)
        ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=SEED_ACTOR)
        cards = []
        for h in range(holders_per_employer):
            holder_phone = _phone(27, salt * 1000 + e * 100 + h)
            card = ledger.issue_card(IssueCard(
                cpr=fresh_cpr(), name=f"Borger {e}-{h}", municipality_code="751",
                phone=holder_phone, valid_from=valid_from), actor=SEED_ACTOR)
            ledger.create_employment(CreateEmployment(
                employer_cvr=cvr, card_number=card.number, start_date=valid_from,
                weekly_hours=Decimal(10)), actor=SEED_ACTOR)
            cards.append(card.number)
            holders[card.number] = holder_phone
        seeded.append(EmployerSeed(cvr=cvr, phone=phone, cards=tuple(cards)))
    return Population(employers=tuple(seeded), holders=holders, year=today.year)


def _ensure_cap(ledger: Backend, year: int) -> None:
    caps = ledger.caps()
    if any(cap.year == year for cap in caps):
        return
    newest = max(caps, key=lambda cap: cap.year)
    ledger.set_cap(SetCap(year=year, amount_ore=newest.amount_ore,
                          source="Fejltest: seneste kendte grænse", is_demo=True),
                   actor=SEED_ACTOR)


# --- scripts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SenderScript:
    sender: str
    bodies: tuple[str, ...]


def report_body(card: str, kroner: int) -> str:
    return f"indberet {REPORT_HOURS} timer {kroner} kr frikort {card}"


def scripts_for(population: Population, *, reports_per_employer: int = 4,
                balance_questions: int = 2) -> list[SenderScript]:
    """Employers: report, JA, report, JA, ... (over their card holders in turn, each report a
    different amount); card holders: SALDO a few times."""
    scripts = []
    for e, employer in enumerate(population.employers):
        bodies: list[str] = []
        for r in range(reports_per_employer):
            card = employer.cards[r % len(employer.cards)]
            bodies += [report_body(card, 100 + e * 10 + r), "ja"]
        scripts.append(SenderScript(employer.phone, tuple(bodies)))
    for phone in population.holders.values():
        scripts.append(SenderScript(phone, ("saldo",) * balance_questions))
    return scripts


# --- the driver ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One post of a message: the HTTP status, or the transport error's name when the
    connection failed (refused, reset, timed out)."""

    status: int | None
    error: str | None
    at: float


@dataclass
class MessageRecord:
    sid: str
    sender: str
    body: str
    attempts: list[Attempt] = field(default_factory=list)
    replies: list[str] | None = None
    """The <Message> texts of the TwiML answer with the 200."""

    @property
    def acknowledged(self) -> bool:
        return any(a.status == 200 for a in self.attempts)


class TrafficDriver:
    """Plays sender scripts against the server's signed Twilio webhook, one thread per sender.

    ``start(duration_s)`` begins; new messages are started only within ``duration_s``, spread
    so that the whole population sends about ``rate_per_s`` messages a second. Retries of an
    unanswered message go on until ``retry_until`` (monotonic; default: duration + 60 s),
    which a test may move with ``set_retry_deadline`` (e.g. after a restart).
    """

    def __init__(self, base_url: str, scripts: Iterable[SenderScript], *,
                 rate_per_s: float = 8.0, retry_interval_s: float = 0.25,
                 token: str = TWILIO_TOKEN) -> None:
        self.base_url = base_url.rstrip("/")
        self.scripts = list(scripts)
        self.rate_per_s = rate_per_s
        self.retry_interval_s = retry_interval_s
        self._token = token
        self._lock = threading.Lock()
        self.records: list[MessageRecord] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._send_until = 0.0
        self._retry_until = 0.0
        self._client = httpx.Client(base_url=self.base_url, timeout=TWILIO_TIMEOUT_S,
                                    limits=httpx.Limits(max_connections=200))

    # Running --------------------------------------------------------------------------------

    def start(self, duration_s: float) -> None:
        begin = time.monotonic()
        self._send_until = begin + duration_s
        self._retry_until = self._send_until + 60.0
        senders = max(len(self.scripts), 1)
        interval = senders / self.rate_per_s
        for index, script in enumerate(self.scripts):
            thread = threading.Thread(
                target=self._play, args=(script, begin + index / self.rate_per_s, interval),
                name=f"traffic-{index}", daemon=True)
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    def set_retry_deadline(self, monotonic_deadline: float) -> None:
        with self._lock:
            self._retry_until = monotonic_deadline

    def join(self, timeout_s: float) -> bool:
        """Waits for every sender to finish; True when all did within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def close(self) -> None:
        """Stops every sender (a message being retried is left unanswered) and the client."""
        self._stop.set()
        for thread in self._threads:
            thread.join(TWILIO_TIMEOUT_S + 5)
        self._client.close()

    def __enter__(self) -> TrafficDriver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Results --------------------------------------------------------------------------------

    def snapshot(self) -> list[MessageRecord]:
        """The records so far (copies: the sender threads go on appending attempts)."""
        with self._lock:
            return [MessageRecord(r.sid, r.sender, r.body, list(r.attempts),
                                  list(r.replies) if r.replies is not None else None)
                    for r in self.records]

    def answered(self) -> int:
        """How many messages have got their 200 so far."""
        with self._lock:
            return sum(1 for r in self.records if r.replies is not None)

    def wait_answered(self, count: int, timeout_s: float) -> None:
        """Until ``count`` messages have got their 200 (to act at a point of the load rather
        than at a time, whatever the machine's speed). Fails on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.answered() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.answered()} of {count} messages answered "
                                     f"within {timeout_s}s")
            time.sleep(0.02)

    def acknowledged(self) -> list[MessageRecord]:
        return [r for r in self.snapshot() if r.acknowledged]

    def unacknowledged(self) -> list[MessageRecord]:
        return [r for r in self.snapshot() if not r.acknowledged]

    def resend(self, records: Iterable[MessageRecord], deadline: float) -> None:
        """Posts each given message again (same sid, same body) until it gets a 200 or the
        deadline passes; for messages a sender thread gave up on."""
        for record in records:
            with self._lock:
                live = next(r for r in self.records if r.sid == record.sid)
            self._deliver(live, deadline=lambda: deadline)

    # Internals ------------------------------------------------------------------------------

    def _play(self, script: SenderScript, first_at: float, interval: float) -> None:
        due = first_at
        for body in script.bodies:
            self._sleep_until(due)
            if self._stop.is_set() or time.monotonic() > self._send_until:
                return
            record = MessageRecord(sid=f"SM{uuid.uuid4().hex}", sender=script.sender, body=body)
            with self._lock:
                self.records.append(record)
            if not self._deliver(record, deadline=self._retry_deadline):
                return  # never answered: the conversation cannot go on
            due = max(due + interval, time.monotonic())

    def _retry_deadline(self) -> float:
        with self._lock:
            return self._retry_until

    def _deliver(self, record: MessageRecord, deadline: Callable[[], float]) -> bool:
        form = twilio_params(record.sender, record.body, sid=record.sid)
        signature = twilio_signature(form, url=self.base_url + TWILIO_SMS_PATH,
                                     token=self._token)
        headers = {"X-Twilio-Signature": signature}
        while not self._stop.is_set():
            try:
                response = self._client.post(TWILIO_SMS_PATH, data=form, headers=headers)
                attempt = Attempt(response.status_code, None, time.monotonic())
            except httpx.TransportError as error:
                response, attempt = None, Attempt(None, type(error).__name__, time.monotonic())
            with self._lock:
                record.attempts.append(attempt)
                if response is not None and response.status_code == 200:
                    record.replies = twiml_messages(response.text)
                    return True
            if time.monotonic() > deadline():
                return False
            self._stop.wait(self.retry_interval_s)
        return False

    def _sleep_until(self, moment: float) -> None:
        delay = moment - time.monotonic()
        if delay > 0:
            self._stop.wait(delay)


# --- reading the outcome (read-only; through the facade where it has a query) --------------


@dataclass(frozen=True)
class StoredInbound:
    """What the database holds for one provider message id."""

    rows: int
    replies: tuple[str, ...] | None
    processed: bool


def stored_inbound(ledger: Backend) -> dict[str, StoredInbound]:
    """Every inbound SMS by MessageSid: a read-only look at the transcript (the facade has
    no query for it by provider id)."""
    def read(uow: UnitOfWork) -> dict[str, StoredInbound]:
        rows = uow.session.execute(
            sa.select(TranscriptMessage.provider_message_id, TranscriptMessage.replies_json,
                      TranscriptMessage.processed_at)
            .where(TranscriptMessage.direction == "in", TranscriptMessage.channel == "sms"))
        found: dict[str, StoredInbound] = {}
        for sid, replies_json, processed_at in rows:
            before = found.get(sid)
            replies = tuple(json.loads(replies_json)) if replies_json else None
            found[sid] = StoredInbound((before.rows if before else 0) + 1, replies,
                                       processed_at is not None)
        return found
    return ledger.run_read(read)


@dataclass(frozen=True)
class PostedReport:
    report_id: int
    source_message_id: str | None
    card_number: str
    amount_ore: int


def reports_by_status(ledger: Backend) -> dict[str, list[PostedReport]]:
    """Every wage report, grouped by its status as the facade reports it."""
    def read(uow: UnitOfWork) -> list[tuple[int, str | None]]:
        return [(int(i), s) for i, s in uow.session.execute(
            sa.select(WageReport.id, WageReport.source_message_id).order_by(WageReport.id))]
    grouped: dict[str, list[PostedReport]] = {}
    for report_id, source in ledger.run_read(read):
        result = ledger.report(report_id)
        grouped.setdefault(result.status, []).append(
            PostedReport(report_id, source, result.card_number, result.amount_ore))
    return grouped


def outbox_rows(ledger: Backend) -> list[OutboxView]:
    """Every outbox message, oldest first, through the facade."""
    rows: list[OutboxView] = []
    for status in ("pending", "sent", "dead"):
        rows += ledger.conversations.outbox_messages(status, limit=100_000)
    return sorted(rows, key=lambda row: row.id)


def wait_until_drained(ledger: Backend, timeout_s: float) -> list[OutboxView]:
    """Until no outbox message is pending (sent or dead); returns the rows. Fails on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = outbox_rows(ledger)
        if not any(row.status == "pending" for row in rows):
            return rows
        if time.monotonic() > deadline:
            pending = [(r.id, r.attempts, r.last_error[:80]) for r in rows
                       if r.status == "pending"]
            raise AssertionError(f"the outbox still has {len(pending)} pending after "
                                 f"{timeout_s}s: {pending[:10]}")
        time.sleep(0.25)


def delivered(fake: FakeTwilio) -> list[tuple[str, str]]:
    """(To, Body) of every create the fake accepted ("ok"), in the order it received them;
    creates answered with an error or left to time out are not deliveries."""
    return [(r.params.get("To", ""), r.params.get("Body", "")) for r in fake.requests
            if r.path.endswith("/Messages.json") and r.answered_with == "ok"]
