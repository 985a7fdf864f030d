"""Privacy: a CPR number sent to the bot is never echoed, stored in clear or logged, and an
unknown sender never sees anyone's figures.

The CPR number used is Jens's demo CPR (sampledata/data/demo.yml), so the seeded database holds it
too, encrypted and as a keyed hash: the clear digits must appear nowhere.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlu import Parser
from tests.bot.conftest import IDENTITIES, Chat, make_chat

CPR = "1203854417"
CPR_FORMS = (CPR, "120385-4417", "120385 4417", "4417")
# Every way the number could leak: with or without the dash, or its last four digits.
CPR_MESSAGES = (
    "mit cpr er 120385-4417",
    "1203854417",
    "cpr 120385 4417 hvad har jeg tjent",
    "Mit CPR-nummer er 120385-4417, kan I hjælpe mig?",
)


def _leaks(text: str) -> list[str]:
    return [form for form in CPR_FORMS if form in text]


def _send_everywhere(chat: Chat) -> None:
    """The CPR number outside any flow, inside the application flow and inside a report."""
    for who in ("unknown", "jens", "cafe"):
        for message in CPR_MESSAGES:
            chat.send(who, message)
    chat.send("+4542424242", "søg frikort")
    chat.send("+4542424242", "Anna Holm")
    chat.send("+4542424242", "120385-4417")  # the answer to the CPR question
    chat.send("+4542424242", "hvad er mit cpr 1203854417?")  # a question mid-flow
    for answer in ("8000", "kontanthjælp", "ja", "rengøring", "sms", "nej", "ja"):
        chat.send("+4542424242", answer)
    chat.send("cafe", "indberet 4 timer 600 kr frikort 48213")
    chat.send("cafe", "borgerens cpr er 1203854417")  # mid-confirmation
    chat.send("cafe", "nej")
    chat.send("mette", "MENNESKE")
    chat.send("mette", "ja")
    chat.send("mette", "mit cpr er 120385-4417")  # while a person owns the conversation


def _all_replies(chat: Chat) -> list[str]:
    return chat.all_replies()


def _conversation_ids(chat: Chat) -> list[int]:
    path = chat.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM conversations")]


def _every_text_value(path: str) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text-like value in every table of the SQLite file."""
    found = []
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                for (value,) in conn.execute(f'SELECT "{column}" FROM "{table}"'):
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    if value is not None:
                        found.append((table, column, str(value)))
    return found


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.rendered = self.format(record)
        self.records.append(record)


@pytest.fixture(scope="module")
def cpr_run(tmp_path_factory: pytest.TempPathFactory, parser: Parser
            ) -> Iterator[tuple[Chat, list[logging.LogRecord]]]:
    """One conversation run shared by the CPR tests, with every logger captured at DEBUG."""
    chat = make_chat(f"sqlite:///{tmp_path_factory.mktemp('privacy') / 'bot.db'}", parser)
    root = logging.getLogger()
    handler, level = _Collect(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        _send_everywhere(chat)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert chat.ledger.conversations.open_escalations(), "the handoff step did not happen"
    yield chat, handler.records
    chat.ledger.close()


@pytest.fixture
def cpr_chat(cpr_run: tuple[Chat, list[logging.LogRecord]]) -> Chat:
    return cpr_run[0]


def test_cpr_never_in_a_reply(cpr_chat: Chat) -> None:
    replies = _all_replies(cpr_chat)
    assert len(replies) > 20
    for reply in replies:
        assert not _leaks(reply), reply


def test_cpr_never_in_the_stored_transcript(cpr_chat: Chat) -> None:
    conversations = cpr_chat.ledger.conversations
    lines = [line for cid in _conversation_ids(cpr_chat) for line in conversations.transcript(cid)]
    inbound = [line for line in lines if line.direction == "in"]
    assert len(inbound) >= len(CPR_MESSAGES) * 3
    for line in lines:
        assert not re.search(r"\d{6}-?\s?\d{4}", line.text), line
        assert not _leaks(line.text), line


def test_cpr_never_in_any_text_column(cpr_chat: Chat) -> None:
    """Transcript, replies_json, state_json, outbox, audit log, application answers..."""
    path = cpr_chat.url.removeprefix("sqlite:///")
    values = _every_text_value(path)
    assert any(table == "transcript_messages" for table, _, _ in values)
    leaks = [(t, c, v[:80]) for t, c, v in values if CPR in v or "120385-4417" in v]
    assert leaks == []


def test_cpr_never_in_the_database_file(cpr_chat: Chat) -> None:
    """Not even in pages SQLite has freed: the clear digits were never written."""
    path = Path(cpr_chat.url.removeprefix("sqlite:///"))
    files = list(path.parent.glob(path.name + "*"))  # the database, -wal and -shm
    assert path in files
    for file in files:
        data = file.read_bytes()
        assert CPR.encode() not in data, file
        assert b"120385-4417" not in data, file


def test_cpr_never_logged(cpr_run: tuple[Chat, list[logging.LogRecord]]) -> None:
    _, records = cpr_run
    assert records, "nothing was logged at all: is the capture working?"
    for record in records:
        rendered = f"{record.rendered} {record.args!r} {record.exc_text or ''}"  # type: ignore[attr-defined]  # set by the capturing handler
        assert not _leaks(rendered), (record.name, rendered)


def test_application_keeps_the_cpr_only_encrypted(cpr_chat: Chat) -> None:
    path = cpr_chat.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, cpr_encrypted, cpr_hash, answers_json FROM card_applications").fetchall()
    assert [r[0] for r in rows] == ["Anna Holm"]
    name, encrypted, digest, answers = rows[0]
    assert encrypted is not None and CPR.encode() not in encrypted
    assert digest and CPR not in digest
    assert CPR not in answers


UNKNOWN_ASKS = (
    "saldo", "SALDO", "hvad har jeg tjent", "hvor meget har jeg tilbage",
    "hvor meget har jeg tjent på frikort 48213", "hvor meget maa jeg tjene",
    "hvor længe gælder mit frikort", "tjek kort 48213", "er frikort 48213 aktivt",
    "indberet 4 timer 600 kr frikort 48213", "ja", "LINK 48213 0000", "MERE",
    "hvad sker der hvis jeg tjener for meget", "48213",
)
JENS_FIGURES = ("2.062,50", "2062,50", "40.703,50", "40703", "Jens", "Hansen")


@pytest.mark.parametrize("sender", ["unknown", "groen", "mette"])
def test_no_personal_figures_for_others(chat: Chat, sender: str) -> None:
    """An unknown number, an unverified employer and another card holder never see Jens's
    figures, whatever they ask, and nothing about him is queued to them."""
    for message in UNKNOWN_ASKS:
        for reply in chat.send(sender, message):
            for figure in JENS_FIGURES:
                assert figure not in reply.text, (message, reply.text)
    address = IDENTITIES[sender][1]
    assert chat.ledger.conversations.recent_outbox(address) == []
    assert chat.ledger.balance("48213").pending_ore == 0


def test_unknown_sender_is_told_how_to_link(chat: Chat) -> None:
    reply = chat.say("unknown", "hvad er min saldo")
    assert "LINK" in reply
    assert "kr." not in reply
