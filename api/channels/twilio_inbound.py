"""Inbound SMS from Twilio: request signature check and TwiML replies.

The signature is HMAC-SHA1 (keyed with the account's primary Auth Token) over the exact public
URL Twilio called plus the sorted POST parameters. Behind a proxy the URL must be rebuilt from
``PUBLIC_BASE_URL``, not read from the request, or every check fails (Twilio error 57012).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

__all__ = ["SIGNATURE_HEADER", "TWIML_CONTENT_TYPE", "is_valid_twilio_signature", "twiml_reply"]

SIGNATURE_HEADER = "X-Twilio-Signature"
TWIML_CONTENT_TYPE = "text/xml; charset=utf-8"


def is_valid_twilio_signature(
    auth_token: str, url: str, form_params: Mapping[str, str], signature: str | None
) -> bool:
    """True when ``signature`` (the X-Twilio-Signature header) matches URL and form fields.

    ``url`` is the full public webhook URL including any query string. The comparison is
    constant-time (``twilio.request_validator.compare``); a missing or empty header is False.
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(form_params), signature))


def twiml_reply(texts: Sequence[str]) -> str:
    """A TwiML document with one ``<Message>`` per text, or an empty ``<Response />``.

    The empty response acknowledges without replying; an empty non-XML body makes Twilio log
    errors. Serve it with :data:`TWIML_CONTENT_TYPE`.
    """
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return str(response)
