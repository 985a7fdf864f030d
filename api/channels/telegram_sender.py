"""Telegram out through python-telegram-bot's ``Bot.send_message``.

The Bot API host is a setting (``TELEGRAM_API_BASE_URL``, e.g. ``https://api.telegram.org``); PTB
appends the token to ``base_url``, so the bot is built with ``base_url=f"{host}/bot"`` and calls
``{host}/bot{token}/{method}``, the URL scheme of the real Bot API.

Usage::

    async with TelegramSender(token, "https://api.telegram.org") as sender:
        message_id = await sender.send(OutboundMessage("telegram", "123456789", "Hej"))

``send`` also initializes the bot on first use; call ``shutdown()`` (or leave the ``async with``)
to close its HTTP connections.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import warnings
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from api.channels.senders import DeliveryError, OutboundMessage

__all__ = ["TelegramSender", "inline_keyboard"]

# Buttons this short sit side by side (JA / NEJ); anything else gets one row per button.
_ONE_ROW_MAX_BUTTONS = 3
_ONE_ROW_MAX_CHARS = 12


def inline_keyboard(buttons: Sequence[str]) -> InlineKeyboardMarkup:
    """One button per choice; the button text is also its callback data (max 64 bytes)."""
    keys = [InlineKeyboardButton(text, callback_data=text) for text in buttons]
    if len(keys) <= _ONE_ROW_MAX_BUTTONS and all(len(t) <= _ONE_ROW_MAX_CHARS for t in buttons):
        return InlineKeyboardMarkup([keys])
    return InlineKeyboardMarkup([[key] for key in keys])


class TelegramSender:
    """Sends Telegram messages, translating PTB errors into :class:`DeliveryError`."""

    def __init__(
        self,
        token: str,
        api_base_url: str = "https://api.telegram.org",
        *,
        timeout_s: float = 10.0,
    ) -> None:
        base = api_base_url.rstrip("/")
        request = HTTPXRequest(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            write_timeout=timeout_s,
            pool_timeout=timeout_s,
        )
        self._bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=request,
        )
        self._init_lock = asyncio.Lock()
        self._initialized = False

    @property
    def bot(self) -> Bot:
        """The underlying PTB bot, for webhook registration and the webhook route."""
        return self._bot

    async def initialize(self) -> None:
        """Opens the HTTP client and checks the token with ``getMe``; safe to call twice."""
        async with self._init_lock:
            if self._initialized:
                return
            try:
                await self._bot.initialize()
            except TelegramError as exc:
                raise _classify(exc) from _cause(exc)
            self._initialized = True

    async def shutdown(self) -> None:
        async with self._init_lock:
            if self._initialized:
                await self._bot.shutdown()
                self._initialized = False

    async def __aenter__(self) -> TelegramSender:
        await self.initialize()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    async def send(self, message: OutboundMessage) -> str:
        if message.channel != "telegram":
            raise ValueError(f"TelegramSender cannot send {message.channel!r} messages")
        _check_limits(message)
        await self.initialize()
        markup = inline_keyboard(message.buttons) if message.buttons else None
        try:
            sent = await self._bot.send_message(
                chat_id=_chat_id(message.to), text=message.text, reply_markup=markup
            )
        except TelegramError as exc:
            raise _classify(exc) from _cause(exc)
        return str(sent.message_id)

    async def answer_callback(self, callback_query_id: str, text: str | None = None) -> None:
        """Stops the spinner on a pressed inline button (``answerCallbackQuery``)."""
        await self.initialize()
        try:
            await self._bot.answer_callback_query(callback_query_id, text=text)
        except TelegramError as exc:
            raise _classify(exc) from _cause(exc)

    async def set_webhook(
        self, url: str, secret_token: str, *, drop_pending_updates: bool = False
    ) -> None:
        """Registers our webhook; Telegram then sends ``X-Telegram-Bot-Api-Secret-Token``."""
        await self.initialize()
        try:
            await self._bot.set_webhook(
                url,
                secret_token=secret_token,
                allowed_updates=["message", "callback_query"],
                drop_pending_updates=drop_pending_updates,
            )
        except TelegramError as exc:
            raise _classify(exc) from _cause(exc)

    async def delete_webhook(self, *, drop_pending_updates: bool = False) -> None:
        await self.initialize()
        try:
            await self._bot.delete_webhook(drop_pending_updates=drop_pending_updates)
        except TelegramError as exc:
            raise _classify(exc) from _cause(exc)


def _chat_id(to: str) -> int | str:
    """Numeric chat ids go as integers; ``@channelname`` stays a string."""
    stripped = to.strip()
    return int(stripped) if stripped.lstrip("-").isdigit() else stripped


def _check_limits(message: OutboundMessage) -> None:
    """Refuses, without calling Telegram, what Telegram would refuse with 400 anyway."""
    if not message.text.strip():
        raise DeliveryError("Telegram message text is empty", transient=False, code="empty_text")
    if len(message.text) > MessageLimit.MAX_TEXT_LENGTH:
        raise DeliveryError(
            f"Telegram message text is longer than {MessageLimit.MAX_TEXT_LENGTH} characters",
            transient=False,
            code="text_too_long",
        )
    for button in message.buttons:
        size = len(button.encode("utf-8"))
        if not InlineKeyboardButtonLimit.MIN_CALLBACK_DATA <= size <= (
            InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
        ):
            raise DeliveryError(
                f"Button text must be 1-64 bytes to serve as callback data, got {size}",
                transient=False,
                code="button_data",
            )


def _retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22.2+ warns when retry_after is read as an int; both forms mean seconds.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def _cause(exc: TelegramError) -> TelegramError | None:
    # PTB's InvalidToken message from Bot.initialize() contains the token: do not chain it.
    return None if isinstance(exc, InvalidToken) else exc


def _classify(exc: TelegramError) -> DeliveryError:
    """Order matters: BadRequest and TimedOut are subclasses of NetworkError."""
    if isinstance(exc, RetryAfter):
        seconds = _retry_after_seconds(exc)
        return DeliveryError(
            f"Telegram flood control: retry in {seconds:g} s",
            transient=True,
            retry_after=seconds,
            code="429",
        )
    if isinstance(exc, InvalidToken):
        return DeliveryError("Telegram rejected the bot token", transient=False, code="401")
    if isinstance(exc, Forbidden):
        return DeliveryError(f"Telegram refused: {exc.message}", transient=False, code="403")
    if isinstance(exc, BadRequest):
        return DeliveryError(f"Telegram refused: {exc.message}", transient=False, code="400")
    if isinstance(exc, TimedOut):
        return DeliveryError("Telegram did not answer in time", transient=True, code="timeout")
    if isinstance(exc, NetworkError):
        return DeliveryError(f"Telegram unreachable: {exc.message}", transient=True, code="network")
    if isinstance(exc, ChatMigrated):
        return DeliveryError(
            f"Chat moved to {exc.new_chat_id}", transient=False, code="chat_migrated"
        )
    if isinstance(exc, Conflict):
        return DeliveryError(f"Telegram conflict: {exc.message}", transient=False, code="409")
    return DeliveryError(f"Telegram error: {exc.message}", transient=False, code="telegram")
