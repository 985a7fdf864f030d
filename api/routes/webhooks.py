"""Provider webhooks: Twilio SMS (answered with TwiML) and Telegram (answered via the outbox)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from api.bootstrap import Services
from api.channels.limits import SMS_MAX_CHARS, TELEGRAM_MAX_CHARS, cut, note
from api.channels.telegram_inbound import (
    InvalidUpdate,
    TelegramInbound,
    is_valid_secret,
    parse_update,
)
from api.channels.twilio_inbound import is_valid_twilio_signature, twiml_reply
from api.db_outage import describe, outage_problem
from api.problems import problem
from api.scheduler import BackgroundScheduler
from bot import InboundMessage
from conversations.records import OutboxItem
from db.engine import is_database_unavailable
from db.errors import InvalidInput, danish_message

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"], include_in_schema=True)
MAX_TELEGRAM_ATTEMPTS = 5
"""After this many failed tries of one update in this process, it is acknowledged and logged."""


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def signed_twilio_form(request: Request) -> dict[str, str] | Response:
    """The form of a request Twilio signed, or the problem to answer: 503 without Twilio
    settings, 403 when the signature over PUBLIC_BASE_URL, the path, the query and every field
    does not match. SMS and voice webhooks are checked alike."""
    settings = _services(request).settings
    if not settings.twilio_configured or settings.TWILIO_AUTH_TOKEN is None:
        return problem(503, "channel_not_configured", danish_message("channel_not_configured"))
    form = await request.form()
    params = {key: str(value) for key, value in form.items()}
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.url.path
    if request.url.query:
        url = f"{url}?{request.url.query}"
    signature = request.headers.get("X-Twilio-Signature")
    if not is_valid_twilio_signature(settings.TWILIO_AUTH_TOKEN.get_secret_value(), url, params,
                                     signature):
        return problem(403, "forbidden", danish_message("invalid_signature"))
    return params


@router.post("/webhooks/twilio/sms", response_class=Response)
async def twilio_sms(request: Request) -> Response:
    """An inbound SMS. The signature is checked against PUBLIC_BASE_URL; retries are replayed."""
    services = _services(request)
    params = await signed_twilio_form(request)
    if isinstance(params, Response):
        return params
    sid, sender = params.get("MessageSid"), params.get("From")
    if not sid or not sender:
        return problem(400, "invalid_input", danish_message("invalid_input"))
    inbound = InboundMessage(channel="sms", sender=sender,
                             text=cut(params.get("Body", ""), SMS_MAX_CHARS),
                             provider_message_id=sid)
    replies = await run_in_threadpool(services.dialogue.handle, inbound)
    request.app.state.kick_outbox_if_queued()
    return Response(twiml_reply([reply.text for reply in replies]), media_type="application/xml")


@router.post("/webhooks/telegram")
async def telegram_webhook(request: Request) -> Response:
    """An update from Telegram, handed to python-telegram-bot's Application (custom webhook)."""
    services = _services(request)
    settings = services.settings
    application: Application[Any, Any, Any, Any, Any, Any] | None = request.app.state.telegram_app
    if application is None or settings.TELEGRAM_WEBHOOK_SECRET is None:
        return problem(503, "channel_not_configured", danish_message("channel_not_configured"))
    secret = settings.TELEGRAM_WEBHOOK_SECRET.get_secret_value()
    if not is_valid_secret(secret, request.headers.get("X-Telegram-Bot-Api-Secret-Token")):
        return problem(401, "unauthorized", danish_message("invalid_signature"))
    try:
        data = await request.json()
        parse_update(data)  # checks every field we use: a malformed update is refused whole
        update = Update.de_json(data, application.bot)
    except (InvalidUpdate, ValueError, TypeError, KeyError, AttributeError, OverflowError,
            RecursionError):  # RecursionError: JSON nested deeper than the parser goes
        return problem(400, "invalid_input", danish_message("invalid_input"))
    if not request.app.state.telegram_ready:  # getMe on first use: a server starts offline too
        try:
            await application.initialize()
            request.app.state.telegram_ready = True
        except Exception:
            log.exception("telegram application could not initialise")
            return problem(503, "temporarily_unavailable",
                           danish_message("temporarily_unavailable"))
    # Processed before answering: a 200 then means the message is stored and answered, and a
    # failure answers 5xx so Telegram delivers the update again (de-duplicated by update_id).
    await application.process_update(update)
    failure = request.app.state.telegram_failures.pop(update.update_id, None)
    if failure is None:
        return Response(status_code=200)
    if isinstance(failure, InvalidInput):  # refused before anything was stored: no retry helps
        return problem(422, failure.code, failure.message)
    if is_database_unavailable(failure):
        # Not this update's fault and not counted against it: acknowledging it after
        # MAX_TELEGRAM_ATTEMPTS would lose a message that was never stored.
        log.warning("telegram update %s: database unavailable (%s)", update.update_id,
                    describe(failure))
        return outage_problem()
    attempts = request.app.state.telegram_attempts
    attempts[update.update_id] = attempts.get(update.update_id, 0) + 1
    log.error("telegram update %s failed (%d): %s", update.update_id, attempts[update.update_id],
              type(failure).__name__)
    if attempts[update.update_id] >= MAX_TELEGRAM_ATTEMPTS:
        # Stop Telegram's redelivery loop: an update that fails this often will not succeed by
        # retrying, and the error log names its update id for a person to look at.
        attempts.pop(update.update_id, None)
        return Response(status_code=200)
    return problem(503, "temporarily_unavailable", danish_message("temporarily_unavailable"))


def _answers_the_waiting_question(services: Services, found: TelegramInbound) -> bool:
    """A pressed button counts only in the sender's own private chat, under the question
    with buttons that is waiting for an answer there, and with one of that question's own
    buttons. Anything else (another chat, an old question, a forged button) changes nothing."""
    if found.message_id is None or found.chat_id != found.user_id:
        return False
    waiting = services.ledger.conversations.pending_buttons(
        "telegram", found.chat_id, str(found.update_id))
    if waiting is None or found.text not in waiting[1]:
        return False
    # While the question is on its way its Telegram id is not written down yet (the press can
    # come before the outbox marks it sent): the same chat and one of its buttons must do.
    return waiting[0] is None or waiting[0] == str(found.message_id)


async def _refuse_button(services: Services, callback_query_id: str) -> None:
    log.info("telegram button refused: not the question waiting in the sender's chat")
    if services.telegram is None:
        return
    try:
        await services.telegram.answer_callback(callback_query_id, text=note("stale_button"))
    except Exception:  # only the toast is lost; nothing was changed
        log.info("could not answer callback query")


def telegram_application(
    services: Services, outbox: BackgroundScheduler, failures: dict[int, BaseException]
) -> Application[Any, Any, Any, Any, Any, Any] | None:
    """PTB's Application without an Updater: our route feeds it, our handler answers.

    The turn's replies are sent from here as soon as it commits (written leased to this
    process), not after the outbox worker's next claim; the worker only takes those that
    must wait behind an older message, and any this process could not send.
    A handler failure is recorded in `failures` by update id so the route can answer 5xx.
    """
    if services.telegram is None:
        return None

    async def on_update(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            found = parse_update(update.to_dict())
        except InvalidUpdate:
            return
        if found is None:
            return
        if found.callback_query_id and not await run_in_threadpool(
                _answers_the_waiting_question, services, found):
            await _refuse_button(services, found.callback_query_id)
            return
        inbound = InboundMessage(channel="telegram", sender=found.chat_id,
                                 text=cut(found.text, TELEGRAM_MAX_CHARS),
                                 provider_message_id=str(found.update_id),
                                 shared_phone=found.contact_phone)
        replies = await run_in_threadpool(services.dialogue.handle, inbound,
                                          queue_replies=True, deliver_here=True)
        leased = [OutboxItem(reply.outbox_id, "telegram", found.chat_id, reply.text,
                             reply.buttons, 1) for reply in replies if reply.outbox_id]
        outbox.kick_if_queued()  # what else the turn queued (a notice to someone else)
        if leased:
            outbox.deliver_leased_soon(leased)
        if found.callback_query_id and services.telegram is not None:
            try:
                await services.telegram.answer_callback(found.callback_query_id)
            except Exception:  # only stops the button's spinner; the answer itself is queued
                log.info("could not answer callback query")

    application = Application.builder().bot(services.telegram.bot).updater(None).build()
    application.add_handler(TypeHandler(Update, on_update))

    async def record_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update) and context.error is not None:
            failures[update.update_id] = context.error

    application.add_error_handler(record_failure)
    return application
