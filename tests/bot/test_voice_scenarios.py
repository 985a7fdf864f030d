"""Phone calls as data: tests/bot/voice_scenarios/*.yml, one conversation per file, played
through the phone line (bot/voice) on a fresh demo-seeded ledger, as the SMS scenarios are.

The format is the SMS scenarios' (tests/bot/test_scenarios.py: `name`, `today`, `setup`,
`ledger` checks, `advance`, SMS turns with `from`), plus call turns::

    - call: jens                # a new call from this identity (or a number): the greeting
    - say: "hvad har jeg tjent" # speech in the current call (confidence 0.9 unless given)
      confidence: 0.1
    - keys: "13"                # keypad digits in the current call
    - silence: true             # the caller said nothing
    - transfer_ended: no-answer # the municipality did not take the call (DialCallStatus)
    - hang_up: true             # the status callback: the call is over
    - again: true               # the last request delivered once more (a provider retry)
      expect: [...]             # fragments of what the caller hears (joined with spaces)
      absent: [...]
      then: listen | dial | hang_up
      dial: "+4570100751"       # the number a transfer rings
      digits: 2                 # listening for this many keys
      slow: ["Livslinien"]      # fragments of sentences read slowly

After every scenario: every turn within 25 seconds of speech, no written figure ("kr.", a
date with dots, a link) in what a caller hears, and the ledger's invariants.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.config import BotConfig
from bot.engine import Dialogue
from bot.voice.line import CallEvent, CallReply, PhoneLine
from bot.voice.offices import parse_offices
from bot.voice.speech import MAX_TURN_SECONDS, seconds
from nlu import Parser
from tests.bot.conftest import IDENTITIES, crisis_classifier, make_chat
from tests.bot.test_scenarios import Runner, _fragments, _load

VOICE_SCENARIOS = Path(__file__).parent / "voice_scenarios"
OFFICES = parse_offices({"municipalities": {"751": {
    "name": "Aarhus Kommune", "phone": "+4570100751",
    "hours": {"man": "09:00-15:00", "tir": "09:00-15:00", "ons": "09:00-15:00",
              "tor": "09:00-17:00", "fre": "09:00-13:00"}}}})
_WRITTEN = re.compile(r"\bkr\.|\d+\.\d+\.\d{4}|https?://|www\.|\.dk\b|\d{1,3}\.\d{3},\d{2}")


class VoiceRunner(Runner):
    def __init__(self, scenario: dict[str, Any], chat: Any) -> None:
        super().__init__(scenario, chat)
        chat.dialogue = Dialogue(chat.ledger.conversations, chat.dialogue._parser,
                                 config=BotConfig(offices=OFFICES), crisis=crisis_classifier())
        self.line = PhoneLine(chat.dialogue)
        self.caller = ""
        self.sid = ""
        self.calls = 0
        self.step = 0
        self.last_event: CallEvent | None = None
        self.heard: list[CallReply] = []

    def run(self) -> None:
        for action in self.scenario.get("setup") or []:
            self.setup(action)
        for index, step in enumerate(self.scenario["turns"], start=1):
            where = f"turn {index} ({step})"
            if "advance" in step:
                self.chat.clock.advance(**step["advance"])
            elif "from" in step:
                self.message(step, where)
            elif "caseworker" in step:
                self.caseworker(step["caseworker"])
            elif "hang_up" in step:
                ended = self.line.hang_up(self.sid, self.caller)
                assert ended is step.get("ended", True), where
            elif any(k in step for k in ("call", "say", "keys", "silence", "transfer_ended",
                                         "again")):
                self.call_turn(step, where)
            if "ledger" in step:
                self.check_ledger(step["ledger"], where)
        for reply in self.heard:
            said = " ".join(s.text for s in reply.say)
            assert seconds(reply.say) <= MAX_TURN_SECONDS, f"over 25 s: {said}"
            assert not _WRITTEN.search(said), f"written figures read aloud: {said}"
        self.final_checks()

    def call_turn(self, step: dict[str, Any], where: str) -> None:
        now = self.chat.clock.now
        if "call" in step:
            who = str(step["call"])
            self.caller = IDENTITIES[who][1] if who in IDENTITIES else who
            self.calls += 1
            self.sid = f"CA{self.calls:032d}"
            event = CallEvent(self.sid, self.caller, "start", 0, received_at=now)
        elif "again" in step:
            assert self.last_event is not None, where
            event = self.last_event
        elif "transfer_ended" in step:
            event = CallEvent(self.sid, self.caller, "dial", self.step,
                              dial_status=str(step["transfer_ended"]), received_at=now)
        else:
            event = CallEvent(self.sid, self.caller, "gather", self.step,
                              speech=str(step.get("say", "")),
                              confidence=float(step.get("confidence", 0.9)),
                              digits=str(step.get("keys", "")), received_at=now)
        reply = self.line.answer(event)
        self.last_event = event
        self.step = reply.step
        self.heard.append(reply)
        said = " ".join(s.text for s in reply.say)
        context = f"{where}: the caller heard:\n{said or '(nothing)'} -> {reply.then}"
        for fragment in _fragments(step.get("expect")):
            assert fragment in said, f"{context}\n-- expected {fragment!r}"
        for fragment in _fragments(step.get("absent")):
            assert fragment not in said, f"{context}\n-- unexpected {fragment!r}"
        if "then" in step:
            assert reply.then == step["then"], context
        if "dial" in step:
            assert reply.dial == step["dial"], context
        if "digits" in step:
            assert reply.digits == step["digits"], context
        for fragment in _fragments(step.get("slow")):
            assert any(fragment in s.text for s in reply.say if s.slow), \
                f"{context}\n-- not read slowly: {fragment!r}"


@pytest.mark.parametrize("scenario", _load(VOICE_SCENARIOS))
def test_voice_scenario(scenario: dict[str, Any], tmp_path: Path, parser: Parser) -> None:
    import datetime as dt

    now = dt.datetime.fromisoformat(scenario["today"]) if scenario.get("today") else None
    chat = make_chat(f"sqlite:///{tmp_path / 'voice.db'}", parser, **({"now": now} if now else {}))
    try:
        VoiceRunner(scenario, chat).run()
    finally:
        chat.ledger.close()


def test_the_voice_scenarios_cover_the_issue() -> None:
    tags = {tag for p in _load(VOICE_SCENARIOS) for tag in p.values[0].get("tags", [])}
    for needed in ("balance", "faq", "menu", "crisis", "person_open", "person_closed", "sms",
                   "unknown", "duplicate", "hang_up", "link"):
        assert needed in tags, f"no voice scenario tagged {needed!r}"
