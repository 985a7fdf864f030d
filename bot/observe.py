"""What the dialogue tells whoever watches it: the api counts messages for /metrics and puts
the conversation id on its log lines. The default observer does nothing.

An observer's failure is logged and ignored: watching must never cost a citizen an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVarTuple

from bot.messages import InboundMessage, Reply
from nlu import ParseResult

log = logging.getLogger(__name__)
Ts = TypeVarTuple("Ts")


class DialogueObserver:
    """Override what you need."""

    def stored(self, inbound: InboundMessage, conversation_id: int, duplicate: bool) -> None:
        """The message is stored (or recognised as a provider's retry of one already stored)."""

    def parsed(self, inbound: InboundMessage, parse: ParseResult) -> None:
        """The NLU read it (only new messages are parsed)."""

    def answered(self, inbound: InboundMessage, replies: list[Reply], queued: bool) -> None:
        """The replies are ready; `queued` when they go through the outbox, not the response."""

    def decided(self, inbound: InboundMessage, outcome: str) -> None:
        """What the message got, labelled as in docs/answers.md ("faq_tax/general", "crisis",
        "fallback"...): the evaluation and /metrics count answers, not intents."""

    def failed(self, inbound: InboundMessage, conversation_id: int, error: BaseException) -> None:
        """Handling the message raised; the person got the safe reply instead."""


def safely(call: Callable[[*Ts], object], *args: *Ts) -> None:
    try:
        call(*args)
    except Exception:
        log.exception("dialogue observer failed")
