"""Logging: one JSON object per line (or plain text in development), with request and
conversation ids, and a redaction filter on the root handler as a last line of defence.

The code already keeps CPR numbers out of what it stores and logs; the filter is there for
what slips through anyway (a library logging a URL with the bot token in it, an exception
quoting a message). It masks, in every line that reaches the handler:

* CPR numbers in every spelling the project accepts (`cpr.redact_cpr`, the same function
  that redacts transcripts), as "[CPR]";
* phone numbers: +45 / 0045 numbers, Danish 8-digit numbers (first digit 2-9, also written
  in pairs or fours), 45 followed by 8 digits (how Telegram shares a contact), and other
  "+country" numbers, keeping the last two digits ("+45xxxxxx50");
* secrets: the value of every SecretStr setting, and anything shaped like a Telegram bot token.

An 8-digit CVR number is masked too when it is written without "CVR" context: the filter
cannot tell it from a phone number, and it errs on the side of masking.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import IO, Any

from cpr import redact_cpr

CONTEXT_FIELDS = ("request_id", "conversation_id", "channel")
_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "frikort_log_context", default=None)


# The context: request id, conversation id, channel ----------------------------------------


def new_context(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Starts a fresh context (one per request, one per background job run)."""
    return _CONTEXT.set({k: v for k, v in fields.items() if v is not None})


def bind(**fields: Any) -> None:
    """Adds fields to the current context.

    The context is a dict shared by reference, so a field bound in a worker thread (where the
    dialogue runs, with a copy of the request's context) is seen by the request's own later
    log lines too, such as its access line. Outside any request or job there is no context
    to bind to, and nothing is bound: a field set there would stay on every later line of the
    thread (a conversation id on the next, unrelated message).
    """
    current = _CONTEXT.get()
    if current is None:
        return
    current.update({k: v for k, v in fields.items() if v is not None})


def reset(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _CONTEXT.reset(token)


def current_context() -> dict[str, Any]:
    return dict(_CONTEXT.get() or {})


class ContextFilter(logging.Filter):
    """Puts request_id, conversation_id and channel on every record (None when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _CONTEXT.get() or {}
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context.get(name))
        return True


# Redaction ------------------------------------------------------------------------------------

SECRET_MASK = "[SECRET]"
_BOT_TOKEN = re.compile(r"(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}")
_DK_PREFIXED = re.compile(
    r"(?<![\w+])(?:\+|00)\s?45[\s-]?(?:\d{8}|\d{2}(?:[ -]\d{2}){3}|\d{4}[ -]\d{4})(?!\w)")
_DK_BARE = re.compile(
    r"(?<![\w+])(?<!\d[ -])(?:[2-9]\d{7}|[2-9]\d(?:[ -]\d{2}){3}|[2-9]\d{3}[ -]\d{4})"
    r"(?!\w|[ -]\d)")
_DK_TELEGRAM = re.compile(r"(?<![\w+])45\d{8}(?!\w)")
_INTERNATIONAL = re.compile(r"(?<![\w+])\+[1-9]\d{7,14}(?!\w)")
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "color_message"}
"""The record's own attributes, set by logging from the code (uvicorn's color_message repeats
the message); everything else on a record came with the call or the context."""
_STANDARD_ATTRS = _RECORD_ATTRS | set(CONTEXT_FIELDS)
"""Record attributes that are not extra fields."""


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _mask_prefixed(match: re.Match[str]) -> str:
    return "+45xxxxxx" + _digits(match.group())[-2:]


def _mask_bare(match: re.Match[str]) -> str:
    return "xxxxxx" + _digits(match.group())[-2:]


def _mask_international(match: re.Match[str]) -> str:
    digits = _digits(match.group())
    return "+" + "x" * (len(digits) - 2) + digits[-2:]


class Redactor:
    """Masks CPR numbers, phone numbers and known secrets in a text; idempotent."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole. Very short values
        # would mask ordinary words, and are not secrets worth the name anyway.
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, SECRET_MASK)
        if not any(ch.isdigit() for ch in text):
            return text
        text = _BOT_TOKEN.sub(SECRET_MASK, text)
        text = redact_cpr(text)
        text = _DK_PREFIXED.sub(_mask_prefixed, text)
        text = _INTERNATIONAL.sub(_mask_international, text)
        text = _DK_TELEGRAM.sub(_mask_bare, text)
        return _DK_BARE.sub(_mask_bare, text)


class RedactionFilter(logging.Filter):
    """Redacts the message, its arguments, the traceback and any extra string fields."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        # Every other field too: extras, and the context (a request id is the caller's text).
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRS and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


# Formatters -----------------------------------------------------------------------------------


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items()
            if key not in _STANDARD_ATTRS and not key.startswith("_")
            and (value is None or isinstance(value, str | int | float | bool))}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context, then extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        for key, value in _extras(record).items():
            if value is not None:
                entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For development: a readable line, with the ids appended when known."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS
                       if getattr(record, name, None) is not None)
        if not ids:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [{ids}]{newline}{rest}"


# Installing it --------------------------------------------------------------------------------

_MARK = "_frikort_handler"


def build_handler(settings: Any, stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler with the context and redaction filters and the configured format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactionFilter(Redactor(settings.secret_values())))
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    setattr(handler, _MARK, True)
    return handler


def configure_logging(settings: Any, *, stream: IO[str] | None = None) -> logging.Handler:
    """Sends every log record through one redacting handler on the root logger.

    Called by the server's entry points (not by `create_app`, so tests keep pytest's own
    logging). uvicorn's loggers propagate to the root instead of printing on their own.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
    handler = build_handler(settings, stream)
    root.addHandler(handler)
    root.setLevel(settings.LOG_LEVEL)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # The app's middleware writes one access line per request, with its request id and route
    # template (logger "api.access"); uvicorn's own would only repeat it without them.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    # httpx logs every request line at INFO (with the bot token in Telegram's URLs): too chatty.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Twilio's client logs about ten INFO lines per SMS sent (headers, status): the outbox
    # worker's own line per delivery says what matters.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    return handler
