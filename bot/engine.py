"""The dialogue engine: one inbound message in, replies out, state and effects in one transaction."""

from __future__ import annotations

import datetime as dt
import logging

from bot import flows
from bot.compose import gsm7_safe, tidy
from bot.config import BotConfig
from bot.context import Step
from bot.crisis import crisis_kind
from bot.flows import routing
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.messages import InboundMessage, Reply
from ledger import Ledger
from ledger.turn import Turn
from nlu import ParseResult, Parser, redact_cpr

log = logging.getLogger(__name__)


class Dialogue:
    """Channel-agnostic: the api's webhooks and the demo chat all call `handle`."""

    def __init__(
        self,
        ledger: Ledger,
        parser: Parser,
        *,
        config: BotConfig | None = None,
        knowledge: KnowledgeBase | None = None,
    ) -> None:
        self._ledger = ledger
        self._parser = parser
        self._config = config or BotConfig()
        self._knowledge = knowledge or load_knowledge()

    def handle(self, inbound: InboundMessage, *, queue_replies: bool = False) -> list[Reply]:
        """Stores the message first (nothing lost), then answers it under the sender's lock.

        A provider's retry of a message already answered gets the same replies and no effect.
        With `queue_replies` the replies also go to the outbox in the same transaction, for
        channels that cannot carry them in the webhook response (Telegram).
        """
        conversations = self._ledger.conversations
        stored = conversations.store_inbound(inbound.channel, inbound.sender,
                                             inbound.provider_message_id, redact_cpr(inbound.text))
        if stored.duplicate and stored.replies is not None:
            return [Reply(text) for text in stored.replies]
        today = (inbound.received_at or dt.datetime.now(dt.UTC)).date()
        parse = self._parser.parse(inbound.text, today)
        replies = conversations.turn(
            inbound.channel, inbound.sender,
            lambda turn: self._answer(turn, inbound, parse, stored.id, queue_replies))
        log.info("handled message %s in conversation %s: intent=%s replies=%d",
                 stored.id, stored.conversation_id, parse["intent"]["name"], len(replies))
        return replies

    def _answer(
        self, turn: Turn, inbound: InboundMessage, parse: ParseResult, inbound_id: int,
        queue_replies: bool,
    ) -> list[Reply]:
        already = turn.inbound_replies(inbound_id)
        if already is not None:  # a concurrent retry answered it while we waited for the lock
            return [Reply(text) for text in already]
        step = Step(turn=turn, inbound=inbound, parse=parse, identity=turn.remember_identity(),
                    config=self._config, knowledge=self._knowledge)
        kind = crisis_kind(inbound.text)
        if kind is not None:
            flows.handoff.crisis(step, kind)
        else:
            routing.route(step)
        turn.save_state()
        replies = [self._finish(reply, inbound.channel) for reply in step.replies]
        for reply in replies:
            turn.record_reply(reply.text, buttons=reply.buttons, queue=queue_replies)
        turn.finish_inbound(inbound_id, step.intent, tuple(r.text for r in replies))
        return replies

    @staticmethod
    def _finish(reply: Reply, channel: str) -> Reply:
        # SMS must stay GSM-7; Telegram and the web could take more, but one style is kinder.
        return Reply(tidy(gsm7_safe(reply.text)), reply.buttons if channel != "sms" else ())
