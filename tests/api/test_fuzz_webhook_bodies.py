"""Malformed webhook bodies: not a form, not JSON, not an update, deep nesting, wrong types,
huge numbers. They are 4xx (or 200 for updates Telegram may send that we ignore), never 5xx,
and store nothing. Hostile *texts* in well-formed bodies are in test_fuzz_inputs.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from conversations.intake import MAX_ADDRESS, MAX_PROVIDER_MESSAGE_ID
from db.conversation_tables import TranscriptMessage
from tests.api.channel_fixtures import (
    JENS_PHONE,
    TWILIO_SMS_PATH,
    Channels,
    twilio_params,
    twilio_signature,
)
from tests.api.fuzz_support import dispose_engines, engine_for, inbound_count


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    dispose_engines()


# --- malformed webhook bodies ----------------------------------------------------------------


def _signed_form(params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": twilio_signature(params)}


def _twilio_cases() -> list[tuple[str, dict[str, Any], set[int]]]:
    """(name, request kwargs, allowed statuses); none of these may store anything."""
    long_from = "+45" + "1" * (MAX_ADDRESS + 1)
    long_sid = "SM" + "a" * (MAX_PROVIDER_MESSAGE_ID + 1)
    cases: list[tuple[str, dict[str, Any], set[int]]] = [
        ("empty signed body", {"data": {}, "headers": _signed_form({})}, {400}),
        ("json instead of a form", {"content": b'{"Body": "saldo", "From": "+4520304050"}',
                                    "headers": {"Content-Type": "application/json",
                                                **_signed_form({})}}, {400}),
        ("binary garbage, unsigned", {"content": b"\xff\xfe\x00\x01%%%&&==",
                                      "headers": {"Content-Type":
                                                  "application/x-www-form-urlencoded"}}, {403}),
        ("no MessageSid", {"data": (p := {k: v for k, v in twilio_params(JENS_PHONE, "saldo")
                                          .items() if k != "MessageSid"}),
                           "headers": _signed_form(p)}, {400}),
        ("no From", {"data": (q := {k: v for k, v in twilio_params(JENS_PHONE, "saldo").items()
                                    if k != "From"}),
                     "headers": _signed_form(q)}, {400}),
        ("From longer than any address", {"data": (r := twilio_params(long_from, "saldo")),
                                          "headers": _signed_form(r)}, {422}),
        ("MessageSid longer than any id", {"data": (s := twilio_params(JENS_PHONE, "saldo",
                                                                       sid=long_sid)),
                                           "headers": _signed_form(s)}, {422}),
        ("NUL in From", {"data": (t := twilio_params("+4520304050\x00", "saldo")),
                         "headers": _signed_form(t)}, {422}),
    ]
    return cases


@pytest.mark.parametrize("name", [case[0] for case in _twilio_cases()])
def test_malformed_twilio_posts_are_4xx_and_store_nothing(channels: Channels, name: str) -> None:
    _, kwargs, allowed = next(case for case in _twilio_cases() if case[0] == name)
    before = inbound_count(channels.url)
    response = channels.client.post(TWILIO_SMS_PATH, **kwargs)
    assert response.status_code in allowed, (response.status_code, response.text)
    assert inbound_count(channels.url) == before


def _message(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"message_id": 5, "date": 1_700_000_000, "text": "saldo",
                            "from": {"id": 6_100_001, "is_bot": False, "first_name": "A"},
                            "chat": {"id": 6_100_001, "type": "private", "first_name": "A"}}
    base.update(fields)
    return base


TELEGRAM_BODIES: list[tuple[str, bytes | str, set[int]]] = [
    ("empty", b"", {400}),
    ("not JSON", b"{", {400}),
    ("invalid UTF-8", b'{"update_id": 1, "message": {"text": "\xff\xfe"}}', {400}),
    ("null", b"null", {400}),
    ("a list", b"[1, 2, 3]", {400}),
    ("a number", b"123", {400}),
    ("a string", b'"update"', {400}),
    # Deeper than any JSON parser recurses, and still under the 64 kB body limit.
    ("deeply nested", b"[" * 30_000 + b"]" * 30_000, {400}),
    ("deeply nested object", b'{"update_id": 1, "message": ' + b'{"a": ' * 8_000 + b"1"
     + b"}" * 8_001, {400}),
    ("update_id a string", json.dumps({"update_id": "1", "message": _message()}), {400}),
    ("update_id a float", json.dumps({"update_id": 1.5, "message": _message()}), {400}),
    ("update_id infinite", b'{"update_id": 1e400, "message": {}}', {400}),
    ("update_id with 300 digits", '{"update_id": ' + "9" * 300 + ', "message": '
     + json.dumps(_message()) + "}", {422}),
    ("message a list", json.dumps({"update_id": 801, "message": [1]}), {400}),
    ("text a number", json.dumps({"update_id": 802, "message": _message(text=123)}), {400}),
    ("text an object", json.dumps({"update_id": 803, "message": _message(text={"a": 1})}),
     {400}),
    ("text null", json.dumps({"update_id": 804, "message": _message(text=None)}), {200}),
    ("chat missing", json.dumps({"update_id": 805, "message": {
        k: v for k, v in _message().items() if k != "chat"}}), {400}),
    ("chat id with 80 digits", json.dumps({"update_id": 806, "message": _message(
        chat={"id": int("7" * 80), "type": "private"}, **{"from": {
            "id": int("7" * 80), "is_bot": False, "first_name": "A"}})}), {422}),
    ("date a string", json.dumps({"update_id": 807, "message": _message(date="i går")}),
     {400}),
    ("date out of range", json.dumps({"update_id": 808, "message": _message(date=10**20)}),
     {400}),
    ("from a bot", json.dumps({"update_id": 809, "message": _message(**{"from": {
        "id": 1, "is_bot": True, "first_name": "B"}})}), {200}),
    ("group chat", json.dumps({"update_id": 810, "message": _message(
        chat={"id": -100, "type": "group", "title": "g"})}), {200}),
    ("callback data an object", json.dumps({"update_id": 811, "callback_query": {
        "id": "1", "from": {"id": 6_100_001, "is_bot": False, "first_name": "A"},
        "chat_instance": "1", "data": {"x": 1}}}), {400}),
    ("contact with a garbage number", json.dumps({"update_id": 812, "message": _message(
        text=None, contact={"phone_number": "+45 ' OR 1=1", "first_name": "A",
                            "user_id": 6_100_001})}), {200}),
    ("entities malformed", json.dumps({"update_id": 813, "message": _message(
        entities=[{"type": 5, "offset": "x"}])}), {200, 400}),
    ("unknown update kind", json.dumps({"update_id": 814, "poll": {"id": "x"}}), {200, 400}),
]


@pytest.mark.parametrize("name", [case[0] for case in TELEGRAM_BODIES])
def test_malformed_telegram_bodies_are_never_5xx(channels: Channels, name: str) -> None:
    _, body, allowed = next(case for case in TELEGRAM_BODIES if case[0] == name)
    before = inbound_count(channels.url)
    response = channels.tg(body)
    assert response.status_code in allowed, (response.status_code, response.text[:300])
    table = TranscriptMessage.__table__
    with engine_for(channels.url).connect() as conn:
        new_texts = list(conn.scalars(sa.select(table.c.text).where(table.c.direction == "in")
                                      .order_by(table.c.id).offset(before)))
    if response.status_code != 200:
        assert new_texts == [], "refused, but something was stored"
    # Accepted: stored as sent (a shared contact without text is stored as "").
    assert set(new_texts) <= {"saldo", ""}, new_texts
