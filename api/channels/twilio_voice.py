"""Twilio Voice: a `CallReply` as TwiML, and a call's request read from Twilio's form.

Every `<Say>` is Danish (`language="da-DK"`) in one text-to-speech voice (VOICE_TTS; Amazon
Polly's Danish voices read SSML, so what must be caught, like 112, is read slowly). While the
caller may answer, the sentences are inside `<Gather input="speech dtmf">`, so speaking or a
key cuts them short; its `action` carries the next step, which keeps each request of a call
distinct for de-duplication, and `actionOnEmptyResult` makes silence a turn too.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.voice.line import CallReply
from bot.voice.speech import Spoken

LANGUAGE = "da-DK"
VOICE_PATH = "/webhooks/twilio/voice"
HINTS = ("saldo, hvad har jeg tjent, hvor meget må jeg tjene, medarbejder, menneske, frikort, "
         "ja, nej, mere, sms")
"""Words callers often say, for the speech recognition."""
TRANSFER_TIMEOUT_S = 30
"""How long the municipality's phone rings before the caller is offered a callback."""


def _say(parent: VoiceResponse | Gather, spoken: Spoken, voice: str) -> None:
    if spoken.slow:
        parent.say("", voice=voice, language=LANGUAGE).prosody(spoken.text, rate="slow")
    else:
        parent.say(spoken.text, voice=voice, language=LANGUAGE)


def twiml_call(reply: CallReply, *, base_url: str, voice: str) -> str:
    """The TwiML document for one answer: say, then listen, ring the municipality or hang up."""
    action = base_url.rstrip("/") + VOICE_PATH
    response = VoiceResponse()
    if reply.then == "listen":
        gather = Gather(
            input="dtmf" if reply.digits else "speech dtmf", language=LANGUAGE,
            action=f"{action}/gather?step={reply.step}", method="POST",
            action_on_empty_result=True, speech_timeout="auto", timeout=8 if reply.digits else 5,
            num_digits=reply.digits or 1, finish_on_key="#", hints=HINTS)
        for spoken in reply.say:
            _say(gather, spoken, voice)
        response.append(gather)
        return str(response)
    for spoken in reply.say:
        _say(response, spoken, voice)
    if reply.then == "dial" and reply.dial:
        response.dial(reply.dial, action=f"{action}/dial?step={reply.step}", method="POST",
                      timeout=TRANSFER_TIMEOUT_S)
    else:
        response.hangup()
    return str(response)


def confidence(form: Mapping[str, str]) -> float | None:
    """Twilio's Confidence (0 to 1); None when absent or not a number."""
    raw = form.get("Confidence", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
"""CallStatus values that mean the call is over."""
