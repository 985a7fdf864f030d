"""Structured logs: the redaction filter, JSON lines with request and conversation ids."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.logging_setup import (
    ContextFilter,
    JsonFormatter,
    RedactionFilter,
    Redactor,
    bind,
    configure_logging,
    current_context,
    new_context,
    reset,
)
from api.metrics import safe_request_id
from api.settings import Settings
from nlu import Parser
from tests.api.channel_fixtures import JENS_CARD, JENS_PHONE, Channels, running_channels
from tests.production_env import PRODUCTION_SECRETS

BOT_TOKEN = "7123456789:AAE-logging-tests_0123456789abcdefXYZ"
redact = Redactor(["admin-key-for-log-tests", "s3cr3t-twilio-token-99"])


@pytest.mark.parametrize(("text", "expected"), [
    ("cpr 010190-1234 tak", "cpr [CPR] tak"),
    ("cpr 0101901234", "cpr [CPR]"),
    ("cpr 010190 1234.", "cpr [CPR]."),
    ("GET /api/v1/cards/0101901234 404 3.1 ms", "GET /api/v1/cards/[CPR] 404 3.1 ms"),
    ("ring +4520304050", "ring +45xxxxxx50"),
    ("ring +45 20 30 40 50 nu", "ring +45xxxxxx50 nu"),
    ("ring 0045 20304050", "ring +45xxxxxx50"),
    ("sms fra 20304050", "sms fra xxxxxx50"),
    ("tlf 20 30 40 50 eller 2030 4050", "tlf xxxxxx50 eller xxxxxx50"),
    ("telegram kontakt 4521436587", "telegram kontakt xxxxxx87"),
    ("svensk +46701234567", "svensk +xxxxxxxxx67"),
    ("key=admin-key-for-log-tests!", "key=[SECRET]!"),
    ("POST https://api.twilio.com/x s3cr3t-twilio-token-99",
     "POST https://api.twilio.com/x [SECRET]"),
    (f"https://api.telegram.org/bot{BOT_TOKEN}/sendMessage",
     "https://api.telegram.org/bot[SECRET]/sendMessage"),
])
def test_the_redactor_masks_cpr_phone_and_secrets(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent: a second filter changes nothing


@pytest.mark.parametrize("text", [
    "handled message 42 in conversation 7: intent=check_balance replies=1",
    "Frikort 48213, 2026: Du har tjent 2.062,50 kr. Du kan tjene 40.703,50 kr. mere.",
    "expired 3 unconfirmed wage reports at 2026-11-23T10:00:00+00:00",
    "telegram update 700000001 failed (2): TimeoutError",
    "retention: 1200 rows anonymised (texts older than 2025-11-23)",
    "outbox message 17 not delivered (rate_limited): now pending",
    "",
])
def test_a_normal_sentence_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_an_invalid_date_is_not_taken_for_a_cpr_number() -> None:
    assert redact("ref 3213901234") == "ref 3213901234"


def _record(message: str, *args: object, exc: BaseException | None = None,
            **extra: Any) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    record = logging.LogRecord("frikort.test", logging.ERROR, __file__, 1, message, args,
                               exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_the_filter_redacts_arguments_tracebacks_and_extra_fields() -> None:
    try:
        raise ValueError("could not parse 0101901234 from +4520304050")
    except ValueError as error:
        record = _record("message from %s about %s", "+4520304050", "0101901234", exc=error,
                         recipient="20304050", count=3)
    handler_filter = RedactionFilter(redact)
    assert handler_filter.filter(record) is True
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "message from +45xxxxxx50 about [CPR]"
    assert "ValueError: could not parse [CPR] from +45xxxxxx50" in entry["exception"]
    assert entry["recipient"] == "xxxxxx50" and entry["count"] == 3
    for leak in ("0101901234", "20304050"):
        assert leak not in line


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The root logger configured as the server does it, writing into a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    settings = Settings(_env_file=None, LOG_FORMAT="json",
                        ADMIN_API_KEY="admin-key-for-log-tests",
                        TWILIO_AUTH_TOKEN="s3cr3t-twilio-token-99")
    handler = configure_logging(settings, stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_every_line_is_one_json_object_and_secrets_from_settings_are_masked(
    log_stream: io.StringIO,
) -> None:
    log = logging.getLogger("frikort.test")
    token = new_context(request_id="req-1")
    try:
        bind(conversation_id=12, channel="sms")
        log.info("token %s and key %s", "s3cr3t-twilio-token-99", "admin-key-for-log-tests")
        log.warning("multi\nline %s", "0101901234")
    finally:
        reset(token)
    log.info("outside any request")
    first, second, third = lines(log_stream)
    assert set(first) >= {"time", "level", "logger", "message", "request_id"}
    assert first["time"].endswith("Z") and first["level"] == "INFO"
    assert first["logger"] == "frikort.test"
    assert first["message"] == "token [SECRET] and key [SECRET]"
    assert (first["request_id"], first["conversation_id"], first["channel"]) == ("req-1", 12, "sms")
    assert second["message"] == "multi\nline [CPR]" and second["level"] == "WARNING"
    assert "request_id" not in third and "conversation_id" not in third
    assert len(log_stream.getvalue().strip().splitlines()) == 3


def test_the_text_format_carries_the_ids_too() -> None:
    stream = io.StringIO()
    settings = Settings(_env_file=None)
    assert settings.log_format == "text"
    assert Settings(_env_file=None, **PRODUCTION_SECRETS).log_format == "json"  # type: ignore[arg-type]  # strings, parsed by pydantic
    handler = configure_logging(settings, stream=stream)
    root = logging.getLogger()
    level = root.level
    try:
        token = new_context(request_id="abc123")
        logging.getLogger("frikort.test").info("hello from %s", "+4520304050")
        reset(token)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    line = stream.getvalue().strip()
    assert line.endswith("frikort.test: hello from +45xxxxxx50 [request_id=abc123]"), line


@pytest.fixture
def demo(tmp_path: Path, channel_parser: Parser) -> Iterator[Channels]:
    with running_channels(f"sqlite:///{tmp_path / 'logs.db'}", channel_parser,
                          twilio=None, telegram=None) as made:
        yield made


def test_a_request_logs_with_its_request_and_conversation_id(
    demo: Channels, log_stream: io.StringIO,
) -> None:
    response = demo.client.post(
        "/demo/messages", headers={"X-Request-ID": "trace-77"},
        json={"identity": JENS_CARD, "session": "logging-session", "text": "min cpr er 0101901234"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "trace-77"
    entries = [e for e in lines(log_stream) if e.get("request_id") == "trace-77"]
    handled = [e for e in entries if e["logger"] == "bot.engine"]
    access = [e for e in entries if e["logger"] == "api.access"]
    assert len(handled) == 1 and len(access) == 1, entries
    [conversation] = demo.conversations()
    assert handled[0]["conversation_id"] == conversation["id"]
    assert handled[0]["channel"] == "web"
    # The access line was written after the dialogue ran in a worker thread, and still knows
    # the conversation; it names the route template and the status.
    assert access[0]["conversation_id"] == conversation["id"]
    assert (access[0]["route"], access[0]["status"]) == ("/demo/messages", 200)
    assert access[0]["duration_ms"] > 0
    everything = log_stream.getvalue()
    assert "0101901234" not in everything and JENS_PHONE not in everything

    other = demo.client.get("/healthz")
    new_id = other.headers["X-Request-ID"]
    assert new_id != "trace-77"
    assert not [e for e in lines(log_stream)
                if e.get("request_id") == new_id and "conversation_id" in e]


def test_the_context_filter_fills_missing_fields_with_none() -> None:
    record = _record("plain")
    assert ContextFilter().filter(record)
    assert record.request_id is None and record.conversation_id is None  # type: ignore[attr-defined]  # set by the filter under test


def test_a_field_bound_outside_any_request_or_job_does_not_stay_in_the_thread() -> None:
    """The dialogue binds the conversation id; run outside a request (a test, a script), it
    must not leave that id on every later line of the thread (CI found a leak between tests)."""
    bind(conversation_id=99, channel="sms")
    assert current_context() == {}


# Request ids (issue 14, finding 3) -----------------------------------------------------------


@pytest.mark.parametrize(("given", "kept"), [
    ("trace-77", True), ("req.1_2-3", True), ("a" * 64, True),
    ("070761-4285", False), ("0707614285", False), ("a" * 65, False), ("a b", False),
    ("ok:colon", False), ("<script>", False), ("æøå", False), ("", False),
])
def test_a_request_id_is_kept_only_as_a_short_safe_token(given: str, kept: bool) -> None:
    chosen = safe_request_id(given)
    assert (chosen == given) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", chosen)


def test_a_hostile_request_id_never_reaches_the_log(demo: Channels,
                                                    log_stream: io.StringIO) -> None:
    """Before: `X-Request-ID: 070761-4285` (or the admin key) was written unmasked as
    request_id in every log line of the request."""
    secrets = ("admin-key-for-log-tests", "s3cr3t-twilio-token-99")  # the handler's settings
    for hostile in ("070761-4285", *secrets):
        response = demo.client.get("/healthz", headers={"X-Request-ID": hostile})
        assert response.status_code == 200
    everything = log_stream.getvalue()
    assert "070761-4285" not in everything and "0707614285" not in everything
    assert not [secret for secret in secrets if secret in everything]
    assert everything.count('"request_id": "[SECRET]"') == 2


def test_the_filter_redacts_the_context_fields_too() -> None:
    record = _record("plain")
    record.request_id = "070761-4285"
    record.channel = "admin-key-for-log-tests"
    assert RedactionFilter(redact).filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "[CPR]" and entry["channel"] == "[SECRET]"


def test_a_cpr_number_typed_as_an_id_in_a_path_is_not_in_the_access_record(
    demo: Channels, caplog: pytest.LogCaptureFixture,
) -> None:
    """Masked at the source, not only by the output filter: a handler without that filter (or
    the log scan, which reads the records) never sees it. The fuzz test once sent a ten-digit
    id that reads as a CPR number, and the log scan caught it in the access record."""
    with caplog.at_level(logging.INFO, logger="api.access"):
        response = demo.client.post("/api/v1/escalations/0101901234/take")
    assert response.status_code in (401, 404)
    [access] = [r for r in caplog.records if r.name == "api.access"]
    assert "/api/v1/escalations/" in access.getMessage()
    assert "0101901234" not in access.getMessage()


def test_a_phone_number_typed_as_an_id_in_a_path_is_not_in_the_access_record(
    demo: Channels, caplog: pytest.LogCaptureFixture,
) -> None:
    """The fuzz test sent the id -4512345678 (a 45 and eight digits, as a Telegram contact
    reads), and the log scan caught the number in the access record."""
    with caplog.at_level(logging.INFO, logger="api.access"):
        demo.client.post("/api/v1/outbox/-4512345678/retry")
        demo.client.get("/api/v1/cards/20123456")
    records = [r.getMessage() for r in caplog.records if r.name == "api.access"]
    assert len(records) == 2
    assert "/api/v1/outbox/" in records[0] and "/retry" in records[0]
    assert not [m for m in records if "4512345678" in m or "20123456" in m], records
