"""What the transcript records as a message's intent, which the console's overview reads to
list "messages the bot did not understand"."""

from __future__ import annotations

import sqlite3

from nlu import FALLBACK_INTENT, Parser
from tests.bot.conftest import Chat


def _recorded(chat: Chat) -> dict[str, str | None]:
    path = chat.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT text, intent FROM transcript_messages WHERE direction = 'in'")
        return {text: intent for text, intent in rows}


def test_an_answer_inside_a_flow_is_recorded_as_the_flow_not_as_a_fallback(chat: Chat) -> None:
    chat.say("unknown", "jeg vil søge et frikort")
    assert "CPR-nummer" in chat.say("unknown", "Ole Sørensen")
    recorded = _recorded(chat)
    assert recorded["jeg vil søge et frikort"] == "apply_card"
    assert recorded["Ole Sørensen"] == "flow:apply_card"


def test_a_message_outside_any_flow_keeps_the_classifier_fallback(chat: Chat,
                                                                    parser: Parser) -> None:
    text = "jeg forstår ikke brevet fra jer"
    chat.say("jens", text)
    assert _recorded(chat)[text] == parser.parse(text)["intent"]["name"]
    gibberish = "den der med det"
    assert parser.parse(gibberish)["intent"]["name"] == FALLBACK_INTENT
    chat.say("jens", gibberish)
    assert _recorded(chat)[gibberish] == FALLBACK_INTENT
