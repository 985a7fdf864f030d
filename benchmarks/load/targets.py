"""The two things the driver loads: our webhooks (conversations), and Rasa's /model/parse.

A webhook turn counts as answered when the server returned 200 and the reply is the one the
script expects: for SMS the TwiML in the response, for Telegram the sendMessage that reaches
the fake Bot API (its delay is reported on its own, as "Telegram reply"; one that has not
arrived after 60 s is an error). A turn that fails ends its conversation.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time

from benchmarks.load.drive import PhaseRecorder
from benchmarks.load.httpclient import HttpClient, TransportError
from benchmarks.load.providers import Delivered, FakeProviders
from benchmarks.load.traffic import Message, TrafficSource
from benchmarks.load.wire import Wire, twiml_texts

__all__ = ["AppTarget", "RasaTarget"]


def _short(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class AppTarget:
    """Plays conversations through the signed Twilio and the Telegram webhook."""

    def __init__(self, source: TrafficSource, wire: Wire, client: HttpClient,
                 providers: FakeProviders, *, delivery_timeout_s: float = 60.0) -> None:
        self.source = source
        self._wire = wire
        self._client = client
        self._providers = providers
        self._delivery_timeout_s = delivery_timeout_s
        self.answered = 0
        """Webhook requests the server answered with 200 (each one a new inbound message)."""

    def next(self) -> Message | None:
        return self.source.next_message()

    async def send(self, item: object, scheduled: float, phase: PhaseRecorder) -> None:
        assert isinstance(item, Message)
        conversation, turn = item.conversation, item.turn
        sender = conversation.sender
        where = f"{conversation.kind.name} turn {conversation.position + 1} ({sender.channel})"
        waiting = None
        if sender.channel == "sms":
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
