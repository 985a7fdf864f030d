"""The two things the driver loads: our webhooks (conversations), and Rasa's /model/parse.

A webhook turn counts as answered when the server returned 200 and the reply is the one the
script expects: for SMS the TwiML in the response, for Telegram the sendMessage that reaches
the fake Bot API (its delay is reported on its own, as "Telegram reply"; one that has not
arrived after 60 s is an error), for a call the <Say> texts of the voice TwiML, whose <Gather
action> the call's next turn goes to. A turn that fails ends its conversation. A call whose
script is done hangs up: Twilio's status callback (CallStatus=completed) follows, as it does
for a real call; it is no message (no turn, no latency), but it is server work, and anything
but 204 is an error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time

from benchmarks.load.drive import PhaseRecorder
from benchmarks.load.httpclient import HttpClient, SpreadClient, TransportError
from benchmarks.load.providers import Delivered, FakeProviders
from benchmarks.load.traffic import Conversation, Message, TrafficSource
from benchmarks.load.wire import VOICE_PATH, VOICE_STATUS_PATH, Wire, twiml_call, twiml_texts

__all__ = ["AppTarget", "RasaTarget"]

SPEECH_CONFIDENCE = "0.91"
"""Twilio's Confidence for what the callers say: clearly heard (the line's bar is 0.3)."""


def _short(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class AppTarget:
    """Plays conversations through the signed Twilio and the Telegram webhook."""

    def __init__(self, source: TrafficSource, wire: Wire, client: HttpClient | SpreadClient,
                 providers: FakeProviders, *, delivery_timeout_s: float = 60.0) -> None:
        self.source = source
        self._wire = wire
        self._client = client
        self._providers = providers
        self._delivery_timeout_s = delivery_timeout_s
        self.answered = 0
        """Webhook requests the server answered with 200 (each one a new inbound message)."""
        self.hung_up = 0
        """Calls ended by a status callback the server accepted (not messages)."""

    def next(self) -> Message | None:
        return self.source.next_message()

    async def send(self, item: object, scheduled: float, phase: PhaseRecorder) -> None:
        assert isinstance(item, Message)
        conversation, turn = item.conversation, item.turn
        sender = conversation.sender
        where = f"{conversation.kind.name} turn {conversation.position + 1} ({sender.channel})"
        waiting = None
        if sender.channel == "voice":
            path, body, headers = self._call_request(conversation)
        elif sender.channel == "sms":
            path, body, headers = self._wire.sms(sender.address, turn.text)
        else:
            path, body, headers = self._wire.telegram(
                sender.address, turn.text, button=turn.button,
                message_id=self._providers.buttons_message_id(sender.address))
            # Before sending: the outbox may deliver the reply before the webhook returns.
            waiting = self._providers.wait_for_telegram(sender.address, turn.expect)
        try:
            response = await self._client.request("POST", path, body, headers)
        except TransportError as exc:
            self._give_up(item, waiting)
            phase.error(exc.kind, f"{where}: {exc}")
            return
        done = time.perf_counter()
        if response.status != 200:
            self._give_up(item, waiting)
            phase.error(f"http_{response.status}", f"{where}: {_short(response.body.decode())}")
            return
        self.answered += 1
        if waiting is not None:
            phase.ok(scheduled, done, item.category, item.channel)
            phase.track(asyncio.create_task(self._delivery(item, waiting, scheduled, phase,
                                                           where)))
            return
        if sender.channel == "voice":
            await self._call_answered(item, response.body, scheduled, done, phase, where)
            return
        texts = twiml_texts(response.body)
        if texts is None:
            self._give_up(item, None)
            phase.error("not_twiml", f"{where}: {_short(response.body.decode())}")
        elif not any(texts):
            self._give_up(item, None)
            phase.error("empty_reply", f"{where}: {turn.text!r} got no reply")
        elif not all(fragment in "\n".join(texts) for fragment in turn.expect):
            self._give_up(item, None)
            phase.error("unexpected_reply",
                        f"{where}: {turn.text!r} -> {_short(' | '.join(texts))}")
        else:
            phase.ok(scheduled, done, item.category, item.channel)
            self.source.advance(conversation)

    def _call_request(self, conversation: Conversation) -> tuple[str, bytes, dict[str, str]]:
        """The call's start (a new CallSid), or what the caller says or keys at the action
        URL the previous answer gave."""
        turn, caller = conversation.current, conversation.sender.address
        if turn.ring:
            conversation.call_sid = self._wire.call_sid()
            return self._wire.voice(caller, conversation.call_sid, VOICE_PATH)
        fields = ({"Digits": turn.text} if turn.keys else
                  {"SpeechResult": turn.text, "Confidence": SPEECH_CONFIDENCE})
        return self._wire.voice(caller, conversation.call_sid, conversation.next_path, fields)

    async def _call_answered(self, item: Message, body: bytes, scheduled: float, done: float,
                             phase: PhaseRecorder, where: str) -> None:
        """Checks what the line said; follows its <Gather action>; hangs up after the script."""
        conversation, turn = item.conversation, item.turn
        answer = twiml_call(body)
        last = conversation.position + 1 == len(conversation.turns)
        heard = "[rings]" if turn.ring else repr(turn.text)
        if answer is None:
            self._give_up(item, None)
            phase.error("not_twiml", f"{where}: {_short(body.decode())}")
            return
        if not answer.text.strip():
            self._give_up(item, None)
            phase.error("empty_reply", f"{where}: {heard} got nothing said")
            return
        if not all(fragment in answer.text for fragment in turn.expect):
            self._give_up(item, None)
            phase.error("unexpected_reply", f"{where}: {heard} -> {_short(answer.text)}")
            return
        following = self._wire.local_path(answer.action) if answer.action else None
        if following is None and not last:
            self._give_up(item, None)
            phase.error("call_not_listening", f"{where}: {heard} -> {_short(answer.text)} "
                        f"(no <Gather action>; hangup={answer.hangup}, dial={answer.dial})")
            return
        phase.ok(scheduled, done, item.category, item.channel)
        conversation.next_path = following or ""
        if last and not await self._hang_up(conversation, phase, where):
            self.source.abandon(conversation)
            return
        self.source.advance(conversation)

    async def _hang_up(self, conversation: Conversation, phase: PhaseRecorder,
                       where: str) -> bool:
        path, body, headers = self._wire.voice(conversation.sender.address,
                                               conversation.call_sid, VOICE_STATUS_PATH,
                                               {"CallStatus": "completed", "CallDuration": "42"})
        try:
            response = await self._client.request("POST", path, body, headers)
        except TransportError as exc:
            phase.error(exc.kind, f"{where}, hang-up: {exc}")
            return False
        if response.status != 204:
            phase.error(f"status_callback_http_{response.status}",
                        f"{where}, hang-up: {_short(response.body.decode())}")
            return False
        self.hung_up += 1
        return True

    async def _delivery(self, item: Message, waiting: asyncio.Future[Delivered], scheduled: float,
                        phase: PhaseRecorder, where: str) -> None:
        chat = item.conversation.sender.address
        try:
            delivered = await asyncio.wait_for(waiting, self._delivery_timeout_s)
        except TimeoutError:
            self._give_up(item, waiting)
            recent = " | ".join(_short(t, 80) for t in self._providers.recent_telegram(chat))
            phase.error("telegram_reply_missing",
                        f"{where}: {item.turn.text!r} -> no reply with {item.turn.expect} "
                        f"within {self._delivery_timeout_s:.0f} s; last: {recent or 'none'}")
            return
        phase.delivered(scheduled, delivered.at)
        self.source.advance(item.conversation)

    def _give_up(self, item: Message, waiting: asyncio.Future[Delivered] | None) -> None:
        if waiting is not None:
            self._providers.forget(item.conversation.sender.address, waiting)
            waiting.cancel()
        self.source.abandon(item.conversation)


class RasaTarget:
    """POST /model/parse with the texts of the same mix, one after another, round and round."""

    def __init__(self, client: HttpClient, texts: list[str]) -> None:
        self._client = client
        self._texts = itertools.cycle(texts)

    def next(self) -> str:
        return next(self._texts)

    async def send(self, item: object, scheduled: float, phase: PhaseRecorder) -> None:
        text = str(item)
        body = json.dumps({"text": text}).encode()
        try:
            response = await self._client.request(
                "POST", "/model/parse", body, {"Content-Type": "application/json"})
        except TransportError as exc:
            phase.error(exc.kind, str(exc))
            return
        done = time.perf_counter()
        if response.status != 200:
            phase.error(f"http_{response.status}", _short(response.body.decode()))
            return
        try:
            intent = json.loads(response.body).get("intent", {}).get("name")
        except (ValueError, AttributeError):
            intent = None
        if not intent:
            phase.error("no_intent", _short(response.body.decode()))
            return
        phase.ok(scheduled, done, "parse", "http")
