"""What the providers post to the webhooks: a signed Twilio SMS form, Telegram JSON updates.

Signed and shaped exactly as the real providers do (the same fields as tests/api/
channel_fixtures.py), so the server does all the work it does in production: the signature
check over the public URL, form parsing, PTB's update parsing.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

__all__ = ["TWILIO_PATH", "TELEGRAM_PATH", "ProviderSecrets", "Wire", "twiml_texts"]

TWILIO_PATH = "/webhooks/twilio/sms"
TELEGRAM_PATH = "/webhooks/telegram"


@dataclass(frozen=True)
class ProviderSecrets:
    """Fresh credentials for one run: the server gets them as settings, the wire signs."""

    twilio_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    twilio_token: str = field(default_factory=lambda: secrets.token_hex(16))
    twilio_number: str = "+4570203040"
    bot_token: str = field(
        default_factory=lambda: "7123456789:AA" + secrets.token_urlsafe(24).replace("-", "x"))
    telegram_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))


class Wire:
    """Builds (path, body, headers) for one inbound message; ids are unique within a run."""

    def __init__(self, public_base_url: str, provider: ProviderSecrets) -> None:
        self._url = public_base_url.rstrip("/") + TWILIO_PATH
        self._validator = RequestValidator(provider.twilio_token)
        self._provider = provider
        self._bot_id = int(provider.bot_token.split(":", 1)[0])
        self._sids = itertools.count(1)
        self._run = secrets.token_hex(4)
        self._update_ids = itertools.count(100_000_001)
        self._message_ids = itertools.count(1)
        self._tg_headers = {"Content-Type": "application/json",
                            "X-Telegram-Bot-Api-Secret-Token": provider.telegram_secret}

    def sms(self, sender: str, text: str) -> tuple[str, bytes, dict[str, str]]:
        sid = f"SM{self._run}{next(self._sids):024x}"
        params = {
            "ToCountry": "DK", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "",
            "SmsStatus": "received", "FromCity": "", "Body": text, "FromCountry": "DK",
            "To": self._provider.twilio_number, "ToZip": "", "NumSegments": "1",
            "MessageSid": sid, "AccountSid": self._provider.twilio_sid, "From": sender,
            "ApiVersion": "2010-04-01",
        }
        signature = self._validator.compute_signature(self._url, params)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": signature}
        return TWILIO_PATH, urlencode(params).encode(), headers

    def telegram(self, chat_id: str, text: str, *, button: bool = False,
                 message_id: int | None = None) -> tuple[str, bytes, dict[str, str]]:
        """A private-chat text message, or a press on an inline button with ``text`` as data
        under the bot's message ``message_id`` (the server acts only on the question waiting
        in the chat)."""
        user = {"id": int(chat_id), "is_bot": False, "first_name": "Load", "language_code": "da"}
        chat = {"id": int(chat_id), "first_name": "Load", "type": "private"}
        now = int(time.time())
        update: dict[str, object]
        if button:
            update = {"update_id": next(self._update_ids), "callback_query": {
                "id": str(4_000_000_000_000 + next(self._message_ids)), "from": user,
                "chat_instance": "-77889900112233", "data": text,
                "message": {"message_id": message_id or next(self._message_ids), "date": now,
                            "chat": chat,
                            "from": {"id": self._bot_id, "is_bot": True,
                                     "first_name": "Frikort"},
                            "text": "Svar JA for at bekræfte",
                            "reply_markup": {"inline_keyboard": [[
                                {"text": "JA", "callback_data": "JA"},
                                {"text": "NEJ", "callback_data": "NEJ"}]]}}}}
        else:
            update = {"update_id": next(self._update_ids), "message": {
                "message_id": next(self._message_ids), "from": user, "chat": chat,
                "date": now, "text": text}}
        return TELEGRAM_PATH, json.dumps(update).encode(), self._tg_headers


def twiml_texts(body: bytes) -> list[str] | None:
    """The <Message> texts of a TwiML <Response>; None when the body is not TwiML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if root.tag != "Response":
        return None
    return [m.text or "" for m in root.findall("Message")]
