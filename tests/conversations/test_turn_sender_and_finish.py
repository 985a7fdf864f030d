"""Issue 17's next cuts of a FAQ or SALDO turn: who writes, the card's year and the caps in one
SELECT (`ledger.reads.sender`), kept for the turn until a command runs; and the end of a turn
(the conversation's state, the replies, the answered message) in one statement on PostgreSQL
(`Turn.answer`). Each test runs on SQLite and on PostgreSQL (`db_url`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bot.ledger_reads import LedgerReads
from conversations import store
from conversations.outbox_signal import committed_outbox_inserts
from conversations.turn import Turn
from db.conversation_tables import Conversation, OutboxMessage, TranscriptMessage
from ledger import reads
from ledger.commands import CreateEmployment, IssueCard, RegisterEmployer
from ledger.results import WageReportResult
from tests.conversations.statement_count import statements
from tests.ledger.support import ADMIN, Env, fresh_cpr, make_env, valid_cvr, wage

PHONE = "+4529990011"


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    made = make_env(db_url)
    yield made
    made.ledger.close()


def _holder_who_is_also_an_employer_contact(env: Env) -> str:
    card = env.ledger.issue_card(IssueCard(
        cpr=fresh_cpr(), name="Mette Holm", municipality_code="101",
        valid_from=dt.date(2025, 1, 1), phone=PHONE), actor=ADMIN)
    env.ledger.register_employer(RegisterEmployer(cvr=valid_cvr(7), name="Holms Is",
                                                  phone=PHONE), actor=ADMIN)
    env.ledger.create_employment(CreateEmployment(
        employer_cvr=env.cvr, card_number=card.number, start_date=dt.date(2025, 1, 1),
        weekly_hours=Decimal("5")), actor=ADMIN)
    return card.number


def test_one_select_gives_what_the_separate_reads_give(env: Env) -> None:
    number = _holder_who_is_also_an_employer_contact(env)
    env.report(300_00, "r-1", card=number)

    def read(turn: Turn) -> None:
        with statements() as seen:
            figures = turn.within(lambda uow: reads.sender(uow, "phone", PHONE))
        assert len(seen) == 1, seen
        identity, municipality = store.identity_and_municipality(
            turn.within(lambda uow: uow.session), "sms", PHONE)
        card, balance = turn.within(lambda uow: reads.card_year(uow, number))
        assert figures.card == card and figures.balance == balance
        assert balance.pending_ore + balance.posted_ore == 300_00
        assert (figures.card.number, figures.card.holder_name, municipality) == (
            identity.card_number, identity.holder_name, "101")
        assert (figures.employer_cvr, figures.employer_name, figures.employer_verified) == (
            identity.employer_cvr, identity.employer_name, identity.employer_verified)
        assert list(figures.caps) == turn.within(reads.caps)
        assert figures.caps and figures.year == turn.today.year
        nobody = turn.within(lambda uow: reads.sender(uow, "phone", "+4529990099"))
        assert (nobody.card, nobody.employer_cvr, nobody.caps) == (None, None, figures.caps)
    env.ledger.conversations.turn("sms", PHONE, read)


def test_the_turn_answers_from_the_read_until_a_command_runs(env: Env) -> None:
    number = _holder_who_is_also_an_employer_contact(env)
    def turn_work(turn: Turn) -> tuple[int, int, int, int]:
        known = LedgerReads(turn).sender()
        ledger = LedgerReads(turn, known)
        with statements() as seen:
            _, before = ledger.card_year(number)
            ledger.caps()
            ledger.balance(number, turn.today.year)
        unread = len(seen)
        with statements() as seen:
            ledger.card_year(number, turn.today.year - 1)  # another year: read
        other_year = len(seen)
        turn.execute(wage(env.cvr, number, 200_00, "in-turn"), ADMIN)
        with statements() as seen:
            _, after = ledger.card_year(number)  # a command ran: read again, and it shows
        return unread, other_year, len(seen), after.used_ore - before.used_ore

    unread, other_year, again, moved = env.ledger.conversations.turn("sms", PHONE, turn_work)
    assert (unread, other_year, again, moved) == (0, 1, 1, 200_00)


def test_a_read_asked_twice_in_a_turn_is_read_once_until_a_command_runs(env: Env) -> None:
    """An employer's turn about someone else's card: the card's year and the employees are
    read once however often the flow asks, and read again after a command (it may have
    changed them), showing the change."""
    number = _holder_who_is_also_an_employer_contact(env)

    def turn_work(turn: Turn) -> tuple[list[int], int]:
        ledger = LedgerReads(turn, LedgerReads(turn).sender())
        counts = []
        for ask in (lambda: ledger.card_year(number), lambda: ledger.card(number),
                    lambda: ledger.balance(number, turn.today.year),
                    lambda: turn.employees(env.cvr), lambda: turn.employees(env.cvr)):
            with statements() as seen:
                ask()
            counts.append(len(seen))
        _, before = ledger.card_year(number)
        turn.execute(wage(env.cvr, number, 150_00, "remembered"), ADMIN)
        for ask in (lambda: ledger.card_year(number), lambda: turn.employees(env.cvr)):
            with statements() as seen:
                ask()
            counts.append(len(seen))
        _, after = ledger.card_year(number)
        return counts, after.used_ore - before.used_ore

    counts, moved = env.ledger.conversations.turn("sms", "+4529990099", turn_work)
    assert counts == [1, 0, 0, 1, 0, 1, 1]
    assert moved == 150_00


def test_the_report_a_command_just_made_is_read_back_from_its_result(env: Env) -> None:
    """The read-back right after a report is made needs no read: the command's result is the
    report as stored (what the read would give, save the warnings it crossed). Once another
    command has run, the report is read again."""
    number = _holder_who_is_also_an_employer_contact(env)

    Reports = tuple[list[int], WageReportResult, WageReportResult, WageReportResult]

    def turn_work(turn: Turn) -> Reports:
        ledger = LedgerReads(turn)
        made = turn.execute(wage(env.cvr, number, 250_00, "read-back"), ADMIN)
        counts = []
        with statements() as seen:
            kept = ledger.report(made.id)
        counts.append(len(seen))
        read = turn.within(lambda uow: reads.report(uow, made.id))
        turn.execute(wage(env.cvr, number, 100_00, "another"), ADMIN)
        with statements() as seen:
            again = ledger.report(made.id)
        counts.append(len(seen))
        return counts, kept, read, again

    counts, kept, read, again = env.ledger.conversations.turn("sms", "+4529990098", turn_work)
    assert counts[0] == 0 and counts[1] > 0
    assert kept == read.model_copy(update={"warnings": kept.warnings})
    assert again.id == read.id  # read again: it shows the second report in the balance
    assert again.balance.used_ore - read.balance.used_ore == 100_00


def _answered(env: Env, address: str, sid: str, replies: tuple[str, ...],
              queue: bool = False, last_buttons: tuple[str, ...] = ()) -> list[str]:
    stored = env.ledger.conversations.store_inbound("sms", address, sid, "hvad er reglerne")

    def answer(turn: Turn) -> list[str]:
        assert turn.inbound_replies(stored.id) is None
        turn.state["faq"] = {"last": sid}
        turn.save_state()
        with statements() as seen:
            turn.answer(stored.id, "faq_limit",
                        tuple((r, last_buttons if i == len(replies) - 1 else ())
                              for i, r in enumerate(replies)), queue=queue)
        return seen
    return env.ledger.conversations.turn("sms", address, answer, inbound_id=stored.id)


def test_the_end_of_a_turn_is_one_statement_on_postgresql_and_the_same_rows(
        env: Env, db_url: str) -> None:
    seen = _answered(env, PHONE, "SM-1", ("Svar ét", "Svar to med 0101011234"))
    # On SQLite the inbound's UPDATE, here; the ORM flushes the state and replies at commit.
    assert len(seen) == 1, seen
    first = "WITH conversation AS (UPDATE conversations" if db_url.startswith("postgresql") \
        else "UPDATE transcript_messages"
    assert seen[0].lstrip().startswith(first), seen
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conversation = conn.execute(sa.select(
                Conversation.state_json, Conversation.last_activity_at).where(
                Conversation.address == PHONE)).one()
            lines = conn.execute(sa.select(
                TranscriptMessage.direction, TranscriptMessage.author, TranscriptMessage.text,
                TranscriptMessage.intent, TranscriptMessage.replies_json,
                TranscriptMessage.processed_at.is_not(None)
                | (TranscriptMessage.direction == "out"), TranscriptMessage.channel)
                .order_by(TranscriptMessage.id)).all()
    finally:
        engine.dispose()
    assert json.loads(conversation.state_json) == {"faq": {"last": "SM-1"}}
    assert [(d, a, i, done) for d, a, _, i, _, done, _ in lines] == [
        ("in", "user", "faq_limit", True), ("out", "bot", None, True),
        ("out", "bot", None, True)]
    assert [line.text for line in lines[:2]] == ["hvad er reglerne", "Svar ét"]
    assert json.loads(lines[0].replies_json) == ["Svar ét", "Svar to med 0101011234"]
    assert "0101011234" not in lines[2].text, "a reply is kept with CPR numbers redacted"
    assert {line.channel for line in lines} == {"sms"}
    # A provider's retry gets the stored replies, and changes nothing.
    again = env.ledger.conversations.store_inbound("sms", PHONE, "SM-1", "hvad er reglerne")
    assert again.duplicate and again.replies == ("Svar ét", "Svar to med 0101011234")


@pytest.mark.parametrize("state", [True, False])
def test_a_turn_that_answers_nothing_still_marks_the_message_answered(
        env: Env, db_url: str, state: bool) -> None:
    """A conversation a person owns: the bot stays quiet, with or without a state change."""
    stored = env.ledger.conversations.store_inbound("sms", PHONE, "SM-q", "hallo?")

    def answer(turn: Turn) -> list[str]:
        if state:
            turn.state["quiet"] = True
            turn.save_state()
        with statements() as seen:
            turn.answer(stored.id, "handoff", ())
        return seen
    seen = env.ledger.conversations.turn("sms", PHONE, answer, inbound_id=stored.id)
    assert len(seen) == 1, seen
    again = env.ledger.conversations.store_inbound("sms", PHONE, "SM-q", "hallo?")
    assert again.duplicate and again.replies == ()


def test_queued_replies_go_to_the_outbox_in_the_same_one_statement(
        env: Env, db_url: str) -> None:
    """Telegram's replies leave through the outbox: on PostgreSQL its rows are written by the
    turn's one statement too, in reply order, each transcript line linked to its own."""
    before = committed_outbox_inserts()
    seen = _answered(env, PHONE, "TG-1", ("Svar ét", "Svar to med 0101011234", "Ja eller nej?"),
                     queue=True, last_buttons=("Ja", "Nej"))
    on_postgres = db_url.startswith("postgresql")
    assert (len(seen) == 1 and seen[0].lstrip().startswith("WITH")) == on_postgres, seen
    assert committed_outbox_inserts() == before + 1, "the worker is woken as for an ORM insert"
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            queued = conn.execute(sa.select(
                OutboxMessage.id, OutboxMessage.text, OutboxMessage.buttons_json,
                OutboxMessage.channel, OutboxMessage.recipient, OutboxMessage.status,
                OutboxMessage.conversation_id).order_by(OutboxMessage.id)).all()
            lines = conn.execute(sa.select(TranscriptMessage.text, TranscriptMessage.outbox_id)
                                 .where(TranscriptMessage.direction == "out")
                                 .order_by(TranscriptMessage.id)).all()
            conversation_id = conn.scalar(sa.select(Conversation.id).where(
                Conversation.address == PHONE))
    finally:
        engine.dispose()
    assert [row.text for row in queued][::2] == ["Svar ét", "Ja eller nej?"]
    assert "0101011234" not in queued[1].text
    assert [json.loads(row.buttons_json) for row in queued] == [[], [], ["Ja", "Nej"]]
    assert {(r.channel, r.recipient, r.status, r.conversation_id) for r in queued} == {
        ("sms", PHONE, "pending", conversation_id)}
    assert [(line.text, line.outbox_id) for line in lines] == [
        (row.text, row.id) for row in queued]
    again = env.ledger.conversations.store_inbound("sms", PHONE, "TG-1", "hvad er reglerne")
    assert again.replies == ("Svar ét", "Svar to med 0101011234", "Ja eller nej?")


def test_a_turn_with_other_pending_writes_keeps_the_separate_statements(
        env: Env, db_url: str) -> None:
    def answer_with_escalation(sid: str, urgent: bool) -> list[str]:
        stored = env.ledger.conversations.store_inbound("sms", PHONE, sid, "en person tak")

        def answer(turn: Turn) -> list[str]:
            # The first escalation is flushed when opened (its row and the handoff); making
            # the open one urgent leaves it to the commit's flush: another pending row.
            turn.escalate(urgent=urgent, reason="test")
            turn.save_state()
            with statements() as seen:
                turn.answer(stored.id, "handoff", (("En person skriver", ()),))
            return seen
        return env.ledger.conversations.turn("sms", PHONE, answer, inbound_id=stored.id)

    flushed = answer_with_escalation("SM-2", urgent=False)
    pending = answer_with_escalation("SM-3", urgent=True)
    assert any(s.lstrip().startswith("WITH") for s in flushed) == db_url.startswith(
        "postgresql"), flushed
    assert not any(s.lstrip().startswith("WITH") for s in pending), pending
    for sid in ("SM-2", "SM-3"):
        again = env.ledger.conversations.store_inbound("sms", PHONE, sid, "en person tak")
        assert again.replies == ("En person skriver",)
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            handoff = conn.scalar(sa.select(Conversation.handoff).where(
                Conversation.address == PHONE))
            urgent = conn.scalar(sa.text("SELECT urgent FROM escalations"))
    finally:
        engine.dispose()
    assert (handoff, bool(urgent)) == ("waiting", True)


def test_a_call_turn_keeps_its_encoded_answer_for_a_retry(env: Env, db_url: str) -> None:
    """A call's turn says one thing and stores another for a retry (the encoded TwiML
    answer, `bot.voice`): both databases keep each where it belongs."""
    stored = env.ledger.conversations.store_inbound("sms", PHONE, "CA1:0", "hvad er reglerne")

    def answer(turn: Turn) -> list[str]:
        turn.save_state()
        with statements() as seen:
            turn.answer(stored.id, "faq_limit", (("Du må tjene 42.766 kr.", ()),),
                        stored=('{"say": ["Du må tjene 42.766 kr."], "step": 1}',))
        return seen
    seen = env.ledger.conversations.turn("sms", PHONE, answer, inbound_id=stored.id)
    # PostgreSQL: one statement for all of it; SQLite: the inbound's UPDATE, the rest at commit.
    assert len(seen) == 1, seen
    assert seen[0].lstrip().startswith("WITH") == db_url.startswith("postgresql"), seen
    again = env.ledger.conversations.store_inbound("sms", PHONE, "CA1:0", "hvad er reglerne")
    assert again.replies == ('{"say": ["Du må tjene 42.766 kr."], "step": 1}',)
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            said = conn.scalars(sa.select(TranscriptMessage.text).where(
                TranscriptMessage.direction == "out")).all()
    finally:
        engine.dispose()
    assert said == ["Du må tjene 42.766 kr."]
