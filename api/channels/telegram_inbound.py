"""Inbound Telegram updates: secret-token check and the few fields the dialogue engine needs.

Updates are parsed with PTB's ``Update.de_json(data)``; since PTB 21.4 the ``bot`` argument is
optional, so no ``Bot`` (and no network) is needed to read an update.

What we use and what we ignore:

* ``message`` in a private chat with text (or a caption) or with a shared contact: used.
* ``callback_query`` (an inline button was pressed): used, its ``data`` becomes the text.
* everything else (``edited_message``, channel posts, group chats, stickers, polls, member
  updates, ...): ``parse_update`` returns None and the webhook just acknowledges it. Group
  chats are ignored on purpose: a reply there would show personal data to the whole group.
"""

from __future__ import annotations

import copy
import hmac
from dataclasses import dataclass
from typing import Any

import phonenumbers
from telegram import Chat, Update

__all__ = [
    "SECRET_HEADER",
    "InvalidUpdate",
    "TelegramInbound",
    "is_valid_secret",
    "parse_update",
]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class InvalidUpdate(ValueError):
    """The body is not a Telegram update at all (no ``update_id``, wrong types)."""


@dataclass(frozen=True)
class TelegramInbound:
    """One user turn from Telegram.

    ``text`` is the message text, the caption, or the pressed button's callback data; it is
    ``""`` when the user only shared a contact. ``contact_phone`` is set (E.164) only when the
    user shared their *own* contact (``contact.user_id == from.id``); ``contact_shared`` is True
    for any shared contact, so the bot can ask for the user's own one instead of staying silent.
    """

    update_id: int
    chat_id: str
    user_id: str
    text: str
    contact_phone: str | None = None
    callback_query_id: str | None = None
    message_id: int | None = None
    contact_shared: bool = False


def is_valid_secret(expected: str, header_value: str | None) -> bool:
    """Constant-time comparison of the ``X-Telegram-Bot-Api-Secret-Token`` header."""
    if not expected or header_value is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), header_value.encode("utf-8"))


def parse_update(data: dict[str, Any]) -> TelegramInbound | None:
    """The user turn in ``data``, or None for updates we ignore (see the module docstring).

    Raises :class:`InvalidUpdate` when ``data`` is not an update.
    """
    if not isinstance(data, dict) or not _is_int(data.get("update_id")):
        raise InvalidUpdate("not a Telegram update: missing integer update_id")
    # PTB builds objects from whatever it is given (a number as text, a missing chat, a date
    # out of range); every field we use is checked here, so a malformed update is refused
    # before anything is stored instead of failing half-way through the dialogue.
    try:
        update = Update.de_json(copy.deepcopy(data))
        if update.callback_query is not None:
            return _from_callback(update)
        if update.message is not None:
            return _from_message(update)
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError,
            RecursionError) as exc:
        raise InvalidUpdate(f"malformed Telegram update: {type(exc).__name__}") from exc
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("text, caption and button data are strings")
    return value


def _chat_type(chat: Chat) -> str:
    if not _is_int(chat.id) or not isinstance(chat.type, str):
        raise TypeError("a chat has an integer id and a type")
    return chat.type


def _from_callback(update: Update) -> TelegramInbound | None:
    query = update.callback_query
    assert query is not None
    data = _text(query.data)
    if data is None:  # a game button, not one of ours
        return None
    if not _is_int(query.from_user.id):
        raise TypeError("a user has an integer id")
    message = query.message
    if message is not None:
        if _chat_type(message.chat) != Chat.PRIVATE:
            return None
        chat_id = message.chat.id
        message_id: int | None = message.message_id
    else:  # button on an inline-mode message: the user's private chat has the user's id
        chat_id = query.from_user.id
        message_id = None
    return TelegramInbound(
        update_id=update.update_id,
        chat_id=str(chat_id),
        user_id=str(query.from_user.id),
        text=data,
        callback_query_id=str(query.id),
        message_id=message_id,
    )


def _from_message(update: Update) -> TelegramInbound | None:
    message = update.message
    assert message is not None
    sender = message.from_user
    if sender is None or sender.is_bot or _chat_type(message.chat) != Chat.PRIVATE:
        return None
    if not _is_int(sender.id):
        raise TypeError("a user has an integer id")
    contact_phone = None
    if message.contact is not None and message.contact.user_id == sender.id:
        contact_phone = _e164(_text(message.contact.phone_number) or "")
    text = _text(message.text) or _text(message.caption) or ""
    if not text and message.contact is None:
        return None  # stickers, photos without caption, locations, ...
    return TelegramInbound(
        update_id=update.update_id,
        chat_id=str(message.chat.id),
        user_id=str(sender.id),
        text=text,
        contact_phone=contact_phone,
        message_id=message.message_id,
        contact_shared=message.contact is not None,
    )


def _e164(phone_number: str) -> str | None:
    """Telegram sends contact numbers with or without '+' ("4520123456", "+45 20 12 34 56")."""
    digits = "".join(ch for ch in phone_number if ch.isdigit())
    if not digits:
        return None
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
