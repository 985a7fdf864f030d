"""The application flow with the CPR number in the spellings a person really types: accepted
as the number, and stored nowhere in clear (issue 14, finding 2: "07 07 61 42 85" was
accepted but kept verbatim in the transcript, shown on /console/inbox/N)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cpr
from nlu import Parser
from tests.bot.conftest import make_chat
from tests.bot.test_privacy import _every_text_value

CPR = "0707614285"
SPELLINGS = ["07 07 61 42 85", "070761\u20134285", "07.07.61-4285",
             "\uff10\uff17\uff10\uff17\uff16\uff11\uff0d\uff14\uff12\uff18\uff15"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_cpr_answer_is_taken_and_never_stored_in_clear(tmp_path: Path, parser: Parser,
                                                           spelling: str) -> None:
    chat = make_chat(f"sqlite:///{tmp_path / 'bot.db'}", parser)
    who = "+4542424242"
    try:
        chat.send(who, "søg frikort")
        chat.send(who, "Anna Holm")
        assert "postnummer" in " ".join(r.text for r in chat.send(who, spelling))
        for answer in ("8000", "kontanthjælp", "ja", "rengøring",
                       f"ring til min mor, mit cpr er {spelling}", "nej", "ja"):
            chat.send(who, answer)
        values = _every_text_value(chat.url.removeprefix("sqlite:///"))
        leaks = [(table, column) for table, column, value in values
                 if CPR in cpr.fold(value)[0].replace(" ", "").replace("-", "")
                 .replace(".", "")]
        assert leaks == []
        stored = [v for t, c, v in values if t == "card_applications" and c == "cpr_hash"]
        assert stored and stored[-1], "the CPR number was not taken as the answer"
    finally:
        chat.ledger.close()
