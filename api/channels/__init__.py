"""Channel adapters: outbound senders (Twilio SMS, Telegram) and inbound webhook helpers.

The dialogue engine in ``bot/`` never imports from here; the webhook routes and the outbox worker
in ``api/`` do.
"""

from api.channels.senders import DeliveryError, OutboundMessage, Sender
from api.channels.telegram_inbound import TelegramInbound, is_valid_secret, parse_update
from api.channels.telegram_sender import TelegramSender
from api.channels.twilio_inbound import is_valid_twilio_signature, twiml_reply
from api.channels.twilio_sender import TwilioSender

__all__ = [
    "DeliveryError",
    "OutboundMessage",
    "Sender",
    "TelegramInbound",
    "TelegramSender",
    "TwilioSender",
    "is_valid_secret",
    "is_valid_twilio_signature",
    "parse_update",
    "twiml_reply",
]
