"""What the providers post to the webhooks: a signed Twilio SMS form, Telegram JSON updates,
and the signed forms of a Twilio voice call (its start, each <Gather> action, its end).

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

__all__ = ["TWILIO_PATH", "TELEGRAM_PATH", "VOICE_PATH", "VOICE_STATUS_PATH", "CallTwiml",
           "ProviderSecrets", "Wire", "twiml_call", "twiml_texts"]

TWILIO_PATH = "/webhooks/twilio/sms"
TELEGRAM_PATH = "/webhooks/telegram"
VOICE_PATH = "/webhooks/twilio/voice"
"""The number's voice URL; each answer's <Gather action> is VOICE_PATH/gather?step=N."""
VOICE_STATUS_PATH = VOICE_PATH + "/status"


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
        self._base = public_base_url.rstrip("/")
        self._url = self._base + TWILIO_PATH
        self._validator = RequestValidator(provider.twilio_token)
        self._provider = provider
        self._bot_id = int(provider.bot_token.split(":", 1)[0])
        self._sids = itertools.count(1)
        self._call_sids = itertools.count(1)
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

    def call_sid(self) -> str:
        """A new CallSid: one per call, as Twilio gives every call its own."""
        return f"CA{self._run}{next(self._call_sids):024x}"

    def voice(self, caller: str, call_sid: str, path: str,
              fields: dict[str, str] | None = None) -> tuple[str, bytes, dict[str, str]]:
        """A request about a call to ``path`` (the voice URL, a <Gather action> with its
        ``?step=N``, or the status callback), signed over the full public URL with the query
        string, as Twilio signs it. ``fields``: SpeechResult and Confidence, or Digits, or
        CallStatus; without them the call is ringing (its start) or in progress."""
        extra = dict(fields or {})
        status = extra.pop("CallStatus", "ringing" if path == VOICE_PATH else "in-progress")
        params = {
            "AccountSid": self._provider.twilio_sid, "ApiVersion": "2010-04-01",
            "CallSid": call_sid, "CallStatus": status, "Called": self._provider.twilio_number,
            "Caller": caller, "Direction": "inbound", "From": caller, "FromCountry": "DK",
            "To": self._provider.twilio_number, "ToCountry": "DK", **extra,
        }
        signature = self._validator.compute_signature(self._base + path, params)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": signature}
        return path, urlencode(params).encode(), headers

    def local_path(self, url: str) -> str | None:
        """The path and query of an action URL the server gave (under PUBLIC_BASE_URL)."""
        return url[len(self._base):] if url.startswith(self._base + "/") else None

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


def _twiml_root(body: bytes) -> ET.Element | None:
    """The <Response> element of a TwiML body; None when the body is not TwiML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    return root if root.tag == "Response" else None


def twiml_texts(body: bytes) -> list[str] | None:
    """The <Message> texts of a TwiML <Response>; None when the body is not TwiML."""
    root = _twiml_root(body)
    return None if root is None else [m.text or "" for m in root.findall("Message")]


@dataclass(frozen=True)
class CallTwiml:
    """A voice answer, parsed: the sentences said, and where the call goes next."""

    said: tuple[str, ...]
    action: str | None
    """The <Gather action> (or <Dial action>) URL the next request of the call goes to."""
    hangup: bool
    dial: str | None

    @property
    def text(self) -> str:
        return " ".join(self.said)


def twiml_call(body: bytes) -> CallTwiml | None:
    """A voice TwiML <Response> (<Say> texts, also inside <Gather> and <prosody>); None when
    the body is not TwiML."""
    root = _twiml_root(body)
    if root is None:
        return None
    gather, dial = root.find("Gather"), root.find("Dial")
    said = []
    for say in (gather if gather is not None else root).findall("Say"):
        prosody = say.find("prosody")
        said.append(((prosody.text if prosody is not None else say.text) or "").strip())
    action = gather.get("action") if gather is not None else None
    if action is None and dial is not None:
        action = dial.get("action")
    return CallTwiml(tuple(said), action, root.find("Hangup") is not None,
                     (dial.text or "").strip() if dial is not None else None)
