"""A turn never fails the person: whatever raises inside a flow, the person gets a short safe
reply, the message counts as answered (a provider's retry gets the same reply and does not
replay the crash), and a second failure in a row resets the flow."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.messages import InboundMessage
from bot.observe import DialogueObserver
from tests.bot.conftest import IDENTITIES, Chat
from tests.ledger.support import raw_engine

POISON = {"flow": "report_wage", "asking": "confirm", "slots": {},
          "pending": [{"id": "not a number", "card_number": "48213"}]}
"""A state no message can be handled in: what a bug writing the state would leave behind."""


class Failures(DialogueObserver):
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outcomes: list[str] = []

    def failed(self, inbound: InboundMessage, conversation_id: int,
               error: BaseException) -> None:
        self.errors.append(type(error).__name__)

    def decided(self, inbound: InboundMessage, outcome: str) -> None:
        self.outcomes.append(outcome)


def _poison(chat: Chat, who: str) -> None:
    chat.send(who, "hej")  # the conversation exists
    engine = raw_engine(chat.url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE conversations SET state_json = :s WHERE address = :a"),
                     {"s": json.dumps(POISON), "a": IDENTITIES[who][1]})
    engine.dispose()


def _state(chat: Chat, who: str) -> dict[str, object]:
    engine = raw_engine(chat.url)
    with engine.connect() as conn:
        raw = conn.scalar(sa.text("SELECT state_json FROM conversations WHERE address = :a"),
                          {"a": IDENTITIES[who][1]})
    engine.dispose()
    return json.loads(raw or "{}")


def test_a_failing_turn_gets_the_safe_reply_and_a_retry_gets_the_same(chat: Chat) -> None:
    watch = Failures()
    chat.dialogue.observer = watch
    _poison(chat, "cafe")
    message = chat.inbound("cafe", "ja")
    first = chat.dialogue.handle(message)
    assert [r.text for r in first] == ["Noget gik galt hos os. Prøv igen, eller skriv MENNESKE."]
    assert watch.errors == ["ValueError"] and watch.outcomes[-1] == "error"
    again = chat.dialogue.handle(message)  # the provider's retry of the same message
    assert [r.text for r in again] == [r.text for r in first]
    assert watch.errors == ["ValueError"], "a retry must not replay the crash"


def test_a_second_failure_in_a_row_resets_the_flow(chat: Chat) -> None:
    watch = Failures()
    chat.dialogue.observer = watch
    _poison(chat, "cafe")
    chat.send("cafe", "ja")
    assert _state(chat, "cafe").get("flow") == "report_wage"  # the first keeps the state
    chat.send("cafe", "ja")
    assert len(watch.errors) == 2
    assert _state(chat, "cafe").get("flow") is None
    assert "Du indberetter 600,00 kr." in chat.say("cafe", "indberet 4 timer 600 kr frikort 48213")
    assert chat.ledger.check_invariants() == []
