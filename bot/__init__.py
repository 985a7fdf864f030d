"""The dialogue: inbound message plus stored state in, replies and ledger commands out.

It knows no channel: the api turns Twilio, Telegram and web requests into `InboundMessage`
and sends the `Reply` values back the way each channel needs.
"""

from typing import TYPE_CHECKING, Any

from bot.config import BotConfig
from bot.messages import InboundMessage, Reply

if TYPE_CHECKING:
    from bot.engine import Dialogue


def __getattr__(name: str) -> Any:
    """The engine (its flows, texts and knowledge base) loads on first use, so what needs
    only the configuration (the settings, and with them every CLI command) starts fast."""
    if name == "Dialogue":
        from bot.engine import Dialogue

        return Dialogue
    raise AttributeError(f"module 'bot' has no attribute {name!r}")


__all__ = ["BotConfig", "Dialogue", "InboundMessage", "Reply"]
