"""The dialogue: inbound message plus stored state in, replies and ledger commands out.

It knows no channel: the api turns Twilio, Telegram and web requests into `InboundMessage`
and sends the `Reply` values back the way each channel needs.
"""

from bot.config import BotConfig
from bot.engine import Dialogue
from bot.messages import InboundMessage, Reply

__all__ = ["BotConfig", "Dialogue", "InboundMessage", "Reply"]
