"""Twilio Voice webhooks: the phone line (bot/voice), signed and checked as SMS is.

    POST /webhooks/twilio/voice               a call comes in (the number's voice URL)
    POST /webhooks/twilio/voice/gather?step=N what the caller said or keyed (<Gather action>)
    POST /webhooks/twilio/voice/dial?step=N   how a transfer to the municipality ended
    POST /webhooks/twilio/voice/status        the call's status changed (the number's status
                                              callback URL); a hang-up ends what was half-done

Each request of a call is stored first and de-duplicated by CallSid and step; a retry gets
the first TwiML again and changes nothing.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.bootstrap import Services
from api.channels.limits import SMS_MAX_CHARS, cut
from api.channels.twilio_voice import ENDED, VOICE_PATH, confidence, twiml_call
from api.problems import problem
from api.routes.webhooks import signed_twilio_form
from bot.voice.line import CallEvent, CallReply
from db.errors import danish_message

router = APIRouter(tags=["webhooks"])
MAX_STEP = 10_000
"""More turns than any call has: a larger step is not Twilio's."""
MAX_DIGITS = 32


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _twiml(services: Services, reply: CallReply) -> Response:
    return Response(twiml_call(reply, base_url=services.settings.PUBLIC_BASE_URL,
                               voice=services.settings.VOICE_TTS),
                    media_type="application/xml")


def _step(request: Request) -> int | None:
    raw = request.query_params.get("step", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_STEP else None


async def _call(request: Request, kind: Literal["start", "gather", "dial"]) -> Response:
    services = _services(request)
    params = await signed_twilio_form(request)
    if isinstance(params, Response):
        return params
    sid, caller = params.get("CallSid", ""), params.get("From", "")
    step = 0 if kind == "start" else _step(request)
    digits = params.get("Digits", "")
    if not sid or len(sid) > 64 or step is None or len(digits) > MAX_DIGITS:
        return problem(400, "invalid_input", danish_message("invalid_input"))
    event = CallEvent(call_sid=sid, caller=caller[:64], kind=kind, step=step,
                      speech=cut(params.get("SpeechResult", ""), SMS_MAX_CHARS),
                      confidence=confidence(params), digits=digits,
                      dial_status=params.get("DialCallStatus", "")[:20])
    reply = await run_in_threadpool(services.phone_line.answer, event)
    request.app.state.kick_outbox_if_queued()
    return _twiml(services, reply)


@router.post(VOICE_PATH, response_class=Response)
async def voice_call(request: Request) -> Response:
    """A call comes in: the greeting, and the first question."""
    return await _call(request, "start")


@router.post(f"{VOICE_PATH}/gather", response_class=Response)
async def voice_gather(request: Request) -> Response:
    """What the caller said (SpeechResult, Confidence) or keyed (Digits), or silence."""
    return await _call(request, "gather")


@router.post(f"{VOICE_PATH}/dial", response_class=Response)
async def voice_dial(request: Request) -> Response:
    """A transfer ended: answered, or no one took it (a callback request then)."""
    return await _call(request, "dial")


@router.post(f"{VOICE_PATH}/status", response_class=Response)
async def voice_status(request: Request) -> Response:
    """The call's status changed; once it is over, what it left half-done is ended."""
    services = _services(request)
    params = await signed_twilio_form(request)
    if isinstance(params, Response):
        return params
    sid = params.get("CallSid", "")
    if not sid or len(sid) > 64:
        return problem(400, "invalid_input", danish_message("invalid_input"))
    if params.get("CallStatus", "") in ENDED:
        await run_in_threadpool(services.phone_line.hang_up, sid, params.get("From", "")[:64])
    return Response(status_code=204)
