"""Two card holders answer "1" to the same list at the same moment, and one place is left:
exactly one gets it, the other is told kindly, and the employer hears of one taker only.

Threads share one Backend, as webhook workers in one process do; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from db.commands import Actor
from ledger import IssueCard
from nlu import Parser
from smalljobs.commands import PostTask
from tests.bot.conftest import CAFE_CVR, IDENTITIES, Chat, make_chat
from tests.bot.test_engine_concurrency import _together
from tests.ledger.support import raw_engine

SETUP = Actor(name="jobs-concurrency-test", channel="system")
SOFIE = "+4522446688"
CAFE = IDENTITIES["cafe"][1]


@pytest.fixture
def shared(demo_db_url: str, parser: Parser) -> Iterator[Chat]:
    chat = make_chat(demo_db_url, parser)
    today = chat.clock.now.date()
    chat.ledger.issue_card(IssueCard(
        cpr="0101901234", name="Sofie Berg", number="70001", municipality_code="751",
        phone=SOFIE, valid_from=today - dt.timedelta(days=30)), actor=SETUP)
    yield chat
    chat.ledger.close()


def _places_taken(chat: Chat, title: str) -> int:
    engine = raw_engine(chat.url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT places_taken FROM tasks WHERE title = :t"),
                                   {"t": title}))
    finally:
        engine.dispose()


@pytest.mark.parametrize("round_", range(3))
def test_the_last_place_goes_to_exactly_one_of_two_holders(shared: Chat, round_: int) -> None:
    title = f"Male hegn {round_}"
    tomorrow = shared.clock.now.date() + dt.timedelta(days=1)
    shared.ledger.tasks.post_task(PostTask(
        employer_cvr=CAFE_CVR, title=title, postcode="8000", window_start=tomorrow,
        window_end=tomorrow, expected_hours=Decimal("0.5"), pay_per_hour_ore=150_00),
        actor=SETUP)
    for who in ("jens", SOFIE):
        assert f"1) {title}" in shared.say(who, "JOB 8000")
    before = len(shared.ledger.conversations.recent_outbox(CAFE, limit=100))
    jens, sofie = _together(lambda: shared.say("jens", "1"), lambda: shared.say(SOFIE, "1"))
    answers = sorted([jens, sofie])
    # The winner's answer is the ledger's SMS (no reply of the bot's own); the other is told.
    assert answers[0] == "", answers
    assert "Opgaven er desværre taget" in answers[1], answers
    assert _places_taken(shared, title) == 1
    to_cafe = shared.ledger.conversations.recent_outbox(CAFE, limit=100)
    assert len(to_cafe) == before + 1
    assert sum(title in text and "vil gerne tage" in text for text, _, _ in to_cafe) == 1
    assert shared.ledger.check_invariants() == []
