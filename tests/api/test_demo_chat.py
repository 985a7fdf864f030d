"""The demo chat (/demo) end to end, as `make run` serves it: no Twilio, no Telegram."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nlu import Parser
from tests.api.channel_fixtures import (
    CAFE_CVR,
    JENS_CARD,
    JENS_EARNED,
    JENS_PHONE,
    Channels,
    assert_problem,
    running_channels,
)

SESSION = "demo-session-1234"


@pytest.fixture
def demo(tmp_path: Path, channel_parser: Parser) -> Iterator[Channels]:
    with running_channels(f"sqlite:///{tmp_path / 'demo.db'}", channel_parser,
                          twilio=None, telegram=None) as made:
        yield made


def say(demo: Channels, identity: str, text: str, session: str = SESSION) -> dict[str, Any]:
    response = demo.client.post("/demo/messages",
                                json={"identity": identity, "session": session, "text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def joined(answer: dict[str, Any]) -> str:
    return "\n".join(r["text"] for r in answer["replies"])


def test_the_demo_page_lists_the_identities(demo: Channels) -> None:
    response = demo.client.get("/demo")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for label in ("Jens Hansen (frikort 48213)", "Mette Larsen (frikort 51736)",
                  "Café Solsikken ApS (CVR 31425360)", "Ukendt nummer"):
        assert label in page, label
    options = re.findall(r'<option value="([^"]+)"', page)
    assert options[:1] == [JENS_CARD] and "unknown" in options and CAFE_CVR in options
    # The page does not hand out phone numbers or CPR numbers.
    assert JENS_PHONE not in page and "1203854417" not in page


def test_jens_asks_for_his_balance(demo: Channels) -> None:
    answer = joined(say(demo, JENS_CARD, "saldo"))
    assert f"Frikort {JENS_CARD}" in answer and JENS_EARNED in answer, answer


def test_the_unknown_identity_sees_no_figures(demo: Channels) -> None:
    answer = joined(say(demo, "unknown", "saldo"))
    assert "LINK" in answer
    assert JENS_CARD not in answer and "kr." not in answer, answer
    # An identity the page never offered is treated as unknown, not as an error.
    assert "kr." not in joined(say(demo, "99999", "saldo"))


def test_unknown_sessions_do_not_share_a_conversation(demo: Channels) -> None:
    """Two visitors picking "unknown" each get their own conversation."""
    offer = joined(say(demo, "unknown", "jeg forstår ikke brevet fra jer", session="visitor-one-1"))
    assert "JA eller NEJ" in offer
    other = joined(say(demo, "unknown", "ja", session="visitor-two-2"))
    assert "medarbejder om at skrive" not in other  # visitor two was never offered a person


def test_the_cafe_reports_wages_and_jens_sees_the_sms_it_caused(demo: Channels) -> None:
    readback = say(demo, CAFE_CVR, "indberet 4 timer 600 kr frikort 48213")
    assert readback["replies"][-1]["buttons"] == ["JA", "NEJ"]
    assert "600,00 kr." in joined(readback)
    assert "indberettet" in joined(say(demo, CAFE_CVR, "JA"))

    response = demo.client.get("/demo/notifications",
                               params={"identity": JENS_CARD, "session": SESSION})
    assert response.status_code == 200
    [message] = response.json()["messages"]
    assert message["channel"] == "sms" and message["status"] == "pending"
    assert "Café Solsikken ApS har indberettet 600,00 kr." in message["text"]
    assert "2.662,50 kr." in joined(say(demo, JENS_CARD, "saldo"))


BAD_BODIES: list[Any] = [
    {},
    {"identity": JENS_CARD, "session": SESSION},
    {"identity": JENS_CARD, "session": SESSION, "text": ""},
    {"identity": JENS_CARD, "session": "short", "text": "saldo"},
    {"identity": JENS_CARD, "session": "has spaces in it", "text": "saldo"},
    {"identity": JENS_CARD, "session": SESSION, "text": "x" * 1601},
    {"identity": "x" * 21, "session": SESSION, "text": "saldo"},
    {"identity": JENS_CARD, "session": SESSION, "text": ["saldo"]},
    ["saldo"],
]


def test_a_bad_body_is_a_422(demo: Channels) -> None:
    for body in BAD_BODIES:
        response = demo.client.post("/demo/messages", json=body)
        assert response.status_code == 422, (body, response.text)
        assert_problem(response, 422, "invalid_input")
    response = demo.client.post("/demo/messages", content=b"{not json",
                                headers={"Content-Type": "application/json"})
    assert_problem(response, 422, "invalid_input")
    assert demo.transcript_rows() == []


def test_the_demo_works_with_the_apps_own_lazily_loaded_parser(
    tmp_path: Path, channel_parser: Parser, nlu_cache_dir: Path,
) -> None:
    """As `make run` starts: no parser handed in, the model loaded from NLU_CACHE_DIR."""
    with running_channels(f"sqlite:///{tmp_path / 'lazy.db'}", None, twilio=None, telegram=None,
                          nlu_cache_dir=nlu_cache_dir) as lazy:
        assert lazy.client.get("/healthz").status_code == 200
        assert JENS_EARNED in joined(say(lazy, JENS_CARD, "hvad har jeg tjent i år?"))


def ring(demo: Channels, identity: str, kind: str, step: int, **fields: str) -> dict[str, Any]:
    body = {"identity": identity, "session": SESSION, "call": "democall01", "step": step,
            "kind": kind, **fields}
    response = demo.client.post("/demo/calls", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_ring_op_plays_the_call_as_text_turns_in_the_chats_own_conversation(
    demo: Channels,
) -> None:
    """The demo's "ring op" mode: the same phone line, no Twilio; the call shares the chat's
    state, and a transfer is shown, not dialled."""
    start = ring(demo, JENS_CARD, "start", 0)
    assert "Hej Jens" in " ".join(s["text"] for s in start["say"]) and start["then"] == "listen"
    asked = ring(demo, JENS_CARD, "gather", start["step"], speech="saldo")
    assert asked["digits"] == 2
    told = ring(demo, JENS_CARD, "gather", asked["step"], digits=JENS_CARD[-2:])
    spoken = " ".join(s["text"] for s in told["say"])
    assert "to tusind og toogtres kroner" in spoken and JENS_EARNED not in spoken
    person = ring(demo, JENS_CARD, "gather", told["step"], digits="3")
    assert person["then"] in ("dial", "hang_up")
    assert ring(demo, JENS_CARD, "hang_up", 0) == {"ended": True}
    channels = {(c["channel"], c["address"]) for c in demo.conversations()}
    assert channels == {("web", JENS_PHONE)}
    bad = demo.client.post("/demo/calls", json={"identity": JENS_CARD, "session": SESSION,
                                                "call": "democall01", "step": 1,
                                                "kind": "gather", "digits": "1; DROP"})
    assert bad.status_code == 422
