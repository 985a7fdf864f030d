"""Shared types for outbound delivery: what to send, who sends it, and how it failed.

The outbox worker only ever sees these three names. Provider errors are translated into
:class:`DeliveryError` inside each sender (the httpx ``map_httpcore_exceptions`` pattern), so the
worker decides retry or dead-letter from ``transient`` and ``retry_after`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, get_args

__all__ = ["DeliveryError", "OutboundMessage", "Sender"]

Channel = Literal["sms", "telegram"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one recipient.

    ``to`` is an E.164 number for ``sms`` and a chat id for ``telegram``. ``buttons`` become an
    inline keyboard on Telegram (the button text comes back as the callback data); SMS has no
    buttons, so the composer must already have put the choices into ``text``.
    """

    channel: Channel
    to: str
    text: str
    buttons: tuple[str, ...] = ()


class DeliveryError(Exception):
    """The provider did not accept the message.

    ``transient=True``: trying again later may work (timeouts, connection errors, 5xx, rate
    limits). Note that after a timeout the provider may in fact have accepted the message.
    ``transient=False``: it will fail the same way every time (invalid number, opted out, bot
    blocked, bad token); the outbox should dead-letter it.
    ``retry_after``: seconds the provider asked us to wait, when it said so.
    ``code``: the provider's error code or HTTP status as text, for the dead-letter view.
    """

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.code = code

    def __repr__(self) -> str:
        return (
            f"DeliveryError({str(self)!r}, transient={self.transient}, "
            f"retry_after={self.retry_after}, code={self.code!r})"
        )


class Sender(Protocol):
    """Delivers one message and returns the provider's message id (Twilio SID, Telegram id)."""

    async def send(self, message: OutboundMessage) -> str:
        """Raises :class:`DeliveryError` when the provider does not accept the message."""
        ...
