"""Messages handled at the same time: per-conversation locking and the ledger's rules hold.

Threads share one Backend (one engine pool), as webhook workers in one process do; each test
runs on SQLite and on PostgreSQL (the `demo_db_url` fixture in tests/conftest.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from bot.messages import InboundMessage, Reply
from db.commands import Actor
from ledger import CreateEmployment, RegisterEmployer, ReportWage, VerifyEmployer
from nlu import Parser
from tests.bot.conftest import IDENTITIES, Chat, make_chat
from tests.ledger.support import raw_engine

SETUP = Actor(name="concurrency-test", channel="system")
CAFE = IDENTITIES["cafe"][1]
BAKERY_CVR = "55333149"
BAKERY_TELEGRAM = "555001"


@pytest.fixture
def shared(demo_db_url: str, parser: Parser) -> Iterator[Chat]:
    chat = make_chat(demo_db_url, parser)
    yield chat
    chat.ledger.close()


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Runs the calls in threads released at the same moment; re-raises any failure."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, c) for c in calls]]


def _conversation(chat: Chat, channel: str, address: str) -> dict[str, Any]:
    engine = raw_engine(chat.url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT state_json, handoff FROM conversations "
                "WHERE channel = :c AND address = :a"), {"c": channel, "a": address}).one()
    finally:
        engine.dispose()
    return {"state": json.loads(row[0]), "handoff": row[1]}


def _report_statuses(chat: Chat, card: str) -> list[str]:
    engine = raw_engine(chat.url)
    try:
        with engine.connect() as conn:
            ids = conn.scalars(sa.text(
                "SELECT r.id FROM wage_reports r JOIN cards c ON c.id = r.card_id "
                "WHERE c.number = :n ORDER BY r.id"), {"n": card}).all()
    finally:
        engine.dispose()
    return [chat.ledger.report(i).status for i in ids]


def _handle(chat: Chat, message: InboundMessage) -> Callable[[], list[Reply]]:
    return lambda: chat.dialogue.handle(message)


def test_two_messages_from_one_sender_keep_the_state_consistent(shared: Chat) -> None:
    """Two reports from the café at once: one is read back, the other corrects it (or the
    other way round); exactly one report stays pending and the state names it."""
    for round_ in range(3):
        first = shared.inbound("cafe", "indberet 4 timer 600 kr frikort 48213")
        second = shared.inbound("cafe", "indberet 3 timer 450 kr frikort 48213")
        replies = _together(_handle(shared, first), _handle(shared, second))
        assert all(r and "Du indberetter" in r[-1].text for r in replies), replies

        conversation = _conversation(shared, "sms", CAFE)
        state = conversation["state"]
        assert state["flow"] == "report_wage" and state["asking"] == "confirm", state
        statuses = _report_statuses(shared, "48213")
        assert statuses.count("pending") == 1, statuses
        pending = shared.ledger.report(int(state["pending"][0]["id"]))
        assert pending.status == "pending"
        assert shared.ledger.balance("48213").pending_ore == pending.amount_ore
        assert shared.ledger.check_invariants() == []

        assert "annulleret" in shared.say("cafe", "nej")
        assert shared.ledger.balance("48213").pending_ore == 0, f"round {round_}"
    assert _conversation(shared, "sms", CAFE)["state"].get("flow") is None


def test_duplicate_delivery_at_the_same_moment_acts_once(shared: Chat) -> None:
    shared.say("cafe", "indberet 4 timer 600 kr frikort 48213")
    yes = shared.inbound("cafe", "ja")
    replies = _together(_handle(shared, yes), _handle(shared, yes), _handle(shared, yes))
    assert [r.text for r in replies[0]] == [r.text for r in replies[1]] == \
        [r.text for r in replies[2]]
    assert "er indberettet" in replies[0][0].text
    balance = shared.ledger.balance("48213")
    assert (balance.posted_ore, balance.pending_ore) == (266250, 0)
    assert len(shared.ledger.conversations.recent_outbox(IDENTITIES["jens"][1])) == 1
    assert shared.ledger.check_invariants() == []


def _second_employer_on_telegram(chat: Chat) -> None:
    """A second verified employer, known by its Telegram id, also employing Jens."""
    chat.ledger.register_employer(RegisterEmployer(
        cvr=BAKERY_CVR, name="Bageriet Krumme", telegram_id=BAKERY_TELEGRAM), actor=SETUP)
    chat.ledger.verify_employer(VerifyEmployer(cvr=BAKERY_CVR), actor=SETUP)
    card = chat.ledger.card("48213")
    chat.ledger.create_employment(CreateEmployment(
        employer_cvr=BAKERY_CVR, card_number="48213", start_date=card.valid_from,
        weekly_hours=3), actor=SETUP)  # type: ignore[arg-type]  # pydantic takes an int for the Decimal


def test_sms_and_telegram_reports_never_exceed_the_cap(shared: Chat) -> None:
    """Two employers, one on SMS and one on Telegram, fill the last 1.000 kr. at once."""
    _second_employer_on_telegram(shared)
    cap = shared.ledger.balance("48213").cap_ore
    assert cap is not None
    used = shared.ledger.balance("48213").used_ore
    filler = cap - used - 1000_00  # leaves exactly 1.000 kr. of room
    shared.ledger.report_wage(ReportWage(
        employer_cvr="31425360", card_number="48213", paid_on=shared.clock.now.date(),
        hours=16, amount_ore=filler, idempotency_key="fill-up", post=True),  # type: ignore[arg-type]  # pydantic takes an int for the Decimal
        actor=SETUP)

    sms = shared.inbound("cafe", "indberet 4 timer 800 kr frikort 48213")
    telegram = shared.inbound(BAKERY_TELEGRAM, "indberet 3 timer 800 kr frikort 48213",
                              channel="telegram")
    readbacks = _together(_handle(shared, sms), _handle(shared, telegram))
    assert all("Du indberetter 800,00 kr." in r[-1].text for r in readbacks), readbacks
    # Whoever came second was told that part of it lies above the cap.
    assert sum("over årets grænse" in r[-1].text for r in readbacks) == 1, readbacks
    balance = shared.ledger.balance("48213")
    assert balance.posted_ore + balance.pending_ore == cap

    sms_yes = shared.inbound("cafe", "ja")
    telegram_yes = shared.inbound(BAKERY_TELEGRAM, "ja", channel="telegram")
    posted = _together(_handle(shared, sms_yes), _handle(shared, telegram_yes),
                       _handle(shared, sms_yes), _handle(shared, telegram_yes))
    assert posted[0] == posted[2] and posted[1] == posted[3]  # duplicates: same replies
    assert all("er indberettet" in r[0].text for r in posted), posted

    balance = shared.ledger.balance("48213")
    assert balance.posted_ore == cap
    assert balance.pending_ore == 0
    assert balance.over_cap_ore == 600_00
    assert balance.remaining_ore == 0
    assert _report_statuses(shared, "48213").count("posted") == 6  # 3 demo + filler + 2
    assert shared.ledger.check_invariants() == []
    # Jens hears about each report once, on his phone.
    notes = shared.ledger.conversations.recent_outbox(IDENTITIES["jens"][1])
    assert len(notes) == 2, notes
