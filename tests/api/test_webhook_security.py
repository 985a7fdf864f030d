"""Security of the webhooks: forged and replayed Twilio signatures, the Telegram secret, and
the per-sender rate limit.

* A Twilio request counts only with a valid ``X-Twilio-Signature`` over the public URL and
  every form field: any change to the URL, a field, the token or the header is 403 and
  nothing is stored. A valid signed request sent again (a replay, or Twilio's own retry)
  gets the first answer back and has no second effect, even after the conversation moved on.
* A Telegram update counts only with the exact ``X-Telegram-Bot-Api-Secret-Token``; anything
  else is 401 and nothing is stored. A replayed update id has no second effect.
* Rate limit (``SENDER_RATE_LIMIT_PER_MINUTE``, per channel and address, kept in the database):
  past the limit a message is stored for a person to read but not processed, the first one
  past it gets one polite reply, a crisis message and STOP/START are always handled, and
  the count is shared by every worker process (two apps on one database here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bot.texts import text as bot_text
from db.conversation_tables import Conversation, Escalation, OutboxMessage, TranscriptMessage
from db.tables import WageReport
from nlu import Parser
from tests.api.channel_fixtures import (
    CAFE_PHONE,
    JENS_CARD,
    JENS_PHONE,
    PUBLIC_BASE_URL,
    SECRET_HEADER,
    TELEGRAM_SECRET,
    TWILIO_SMS_PATH,
    TWILIO_TOKEN,
    Channels,
    assert_problem,
    channel_settings,
    new_message_sid,
    running_channels,
    tg_callback_update,
    tg_text_update,
    twilio_params,
    twilio_signature,
    twiml_messages,
)
from tests.fakes.http_server import RunningServer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.ledger.support import fast_ledger

REPORT = "indberet 4 timer 600 kr frikort 48213"
CRISIS = "jeg kan ikke mere, jeg vil ikke leve mere"
LIMIT = 5


def _nothing_stored(channels: Channels) -> None:
    assert channels.transcript_rows() == []
    assert channels.conversations() == []
    assert channels.outbox() == []


# --- Twilio: forged signatures ---------------------------------------------------------------


def _forgeries() -> dict[str, tuple[dict[str, str], dict[str, str], str]]:
    """name: (form actually posted, headers, query string) for a request that must be 403."""
    params = twilio_params(JENS_PHONE, "saldo", sid="SM" + "f" * 32)
    good = twilio_signature(params)
    url = PUBLIC_BASE_URL + TWILIO_SMS_PATH

    def signed(form: dict[str, str], **kwargs: Any) -> dict[str, str]:
        return {"X-Twilio-Signature": twilio_signature(form, **kwargs)}

    flipped = ("A" if good[0] != "A" else "B") + good[1:]
    return {
        "no signature header": (params, {}, ""),
        "empty signature": (params, {"X-Twilio-Signature": ""}, ""),
        "garbage signature": (params, {"X-Twilio-Signature": "not base64 at all!"}, ""),
        "one character changed": (params, {"X-Twilio-Signature": flipped}, ""),
        "lower-cased signature": (params, {"X-Twilio-Signature": good.lower()}, ""),
        "signed with another auth token": (params, signed(params, token="0" * 32), ""),
        "signed for http instead of https": (
            params, signed(params, url=url.replace("https://", "http://")), ""),
        "signed for another host": (
            params, signed(params, url="https://evil.example" + TWILIO_SMS_PATH), ""),
        "signed for another path": (
            params, signed(params, url=PUBLIC_BASE_URL + "/webhooks/telegram"), ""),
        "query string added after signing": (params, signed(params), "Body=indberet"),
        "body changed after signing": (
            {**params, "Body": REPORT}, {"X-Twilio-Signature": good}, ""),
        "sender changed after signing": (
            {**params, "From": CAFE_PHONE}, {"X-Twilio-Signature": good}, ""),
        "message id changed after signing (replay as a new message)": (
            {**params, "MessageSid": new_message_sid()}, {"X-Twilio-Signature": good}, ""),
        "field added after signing": (
            {**params, "NumMedia": "1", "MediaUrl0": "https://evil.example/x.png"},
            {"X-Twilio-Signature": good}, ""),
        "field removed after signing": (
            {k: v for k, v in params.items() if k != "ToCountry"},
            {"X-Twilio-Signature": good}, ""),
        "signature of an empty form": (params, signed({}), ""),
        "the auth token itself as the signature": (
            params, {"X-Twilio-Signature": TWILIO_TOKEN}, ""),
    }


@pytest.mark.parametrize("name", list(_forgeries()))
def test_a_forged_twilio_request_is_403_and_stores_nothing(channels: Channels, name: str) -> None:
    form, headers, query = _forgeries()[name]
    path = f"{TWILIO_SMS_PATH}?{query}" if query else TWILIO_SMS_PATH
    response = channels.client.post(path, data=form, headers=headers)
    body = assert_problem(response, 403, "forbidden")
    assert JENS_CARD not in str(body)
    _nothing_stored(channels)


def test_the_untampered_request_of_the_forgery_table_is_accepted(channels: Channels) -> None:
    """The negative control: the table above fails for the change it makes, nothing else."""
    params = twilio_params(JENS_PHONE, "saldo", sid="SM" + "f" * 32)
    response = channels.client.post(TWILIO_SMS_PATH, data=params,
                                    headers={"X-Twilio-Signature": twilio_signature(params)})
    assert response.status_code == 200
    assert JENS_CARD in "\n".join(twiml_messages(response.text))


# --- Twilio: replayed signed requests --------------------------------------------------------


def _signed_post(channels: Channels, sender: str, body: str) -> tuple[dict[str, str], str]:
    """The exact form and signature of one signed request, to send again later."""
    form = twilio_params(sender, body)
    return form, twilio_signature(form)


def _replay(channels: Channels, form: dict[str, str], signature: str) -> Any:
    return channels.client.post(TWILIO_SMS_PATH, data=form,
                                headers={"X-Twilio-Signature": signature})


def test_a_replayed_confirmation_does_not_post_a_report_twice(channels: Channels) -> None:
    before = channels.posted_ore(JENS_CARD)
    report = _signed_post(channels, CAFE_PHONE, REPORT)
    yes = _signed_post(channels, CAFE_PHONE, "ja")
    assert "JA" in "\n".join(twiml_messages(_replay(channels, *report).text))
    first = _replay(channels, *yes)
    assert "indberettet" in first.text
    # The attacker (or a confused proxy) replays the whole signed conversation, three times,
    # also after the café has started a new report.
    channels.sms_text(CAFE_PHONE, "indberet 2 timer 300 kr frikort 48213")
    for _ in range(3):
        assert _replay(channels, *report).text == _replay(channels, *report).text
        again = _replay(channels, *yes)
        assert again.status_code == 200 and again.text == first.text
    assert channels.posted_ore(JENS_CARD) == before + 600_00
    assert [r["amount_ore"] for r in channels.rows(WageReport, WageReport.source_channel == "sms")
            ] == [600_00, 300_00]
    for form, _ in (report, yes):
        rows = channels.transcript_rows(TranscriptMessage.provider_message_id == form["MessageSid"])
        assert len(rows) == 1


def test_a_replayed_stop_does_not_opt_out_again_after_start(channels: Channels) -> None:
    stop = _signed_post(channels, JENS_PHONE, "STOP")
    assert "ikke flere beskeder" in _replay(channels, *stop).text
    assert "Velkommen tilbage" in channels.sms_text(JENS_PHONE, "START")
    _replay(channels, *stop)  # the old STOP again
    (conversation,) = channels.conversations(Conversation.address == JENS_PHONE)
    assert conversation["opted_out"] is False or conversation["opted_out"] == 0
    assert "Frikort 48213" in channels.sms_text(JENS_PHONE, "saldo")


# --- Telegram: the secret token and replays --------------------------------------------------


@pytest.mark.parametrize("secret", [
    None, "", " ", "wrong", TELEGRAM_SECRET[:-1], TELEGRAM_SECRET + "x", TELEGRAM_SECRET.upper(),
    " " + TELEGRAM_SECRET, TELEGRAM_SECRET + "\t", TELEGRAM_SECRET[::-1],
])
def test_an_update_without_the_exact_secret_is_401_and_stores_nothing(
    channels: Channels, fake_telegram: FakeTelegram, secret: str | None,
) -> None:
    response = channels.tg(tg_text_update(5_551_001, "saldo"), secret=secret)
    assert_problem(response, 401, "unauthorized")
    _nothing_stored(channels)
    assert fake_telegram.requests == []


def test_the_secret_only_counts_in_its_own_header(channels: Channels) -> None:
    update = tg_text_update(5_551_002, "saldo")
    for headers, query in (({"X-Telegram-Secret": TELEGRAM_SECRET}, ""),
                           ({"Authorization": f"Bearer {TELEGRAM_SECRET}"}, ""),
                           ({}, f"secret_token={TELEGRAM_SECRET}"),
                           ({"Cookie": f"{SECRET_HEADER}={TELEGRAM_SECRET}"}, "")):
        path = f"/webhooks/telegram?{query}" if query else "/webhooks/telegram"
        response = channels.client.post(path, json=update, headers=headers)
        assert_problem(response, 401, "unauthorized")
    _nothing_stored(channels)
    assert channels.tg(update).status_code == 200  # the negative control


def test_a_replayed_ja_button_does_not_post_a_report_twice(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    from tests.api.test_webhooks_telegram import telegram_employer

    telegram_employer(channels, 5_551_003)
    before = channels.posted_ore(JENS_CARD)
    assert channels.tg(tg_text_update(5_551_003, REPORT)).status_code == 200
    channels.deliver_all()
    press = tg_callback_update(5_551_003, "JA", bot_id=fake_telegram.bot_id,
                               message_id=channels.buttons_message_id(5_551_003))
    for _ in range(4):
        assert channels.tg(press).status_code == 200
    assert channels.posted_ore(JENS_CARD) == before + 600_00


# --- the rate limit per sender ---------------------------------------------------------------


@pytest.fixture
def limited(tmp_path: Path, channel_parser: Parser, nlu_cache_dir: Path,
            fake_twilio: FakeTwilio, fake_telegram: FakeTelegram,
            twilio_server: tuple[FakeTwilio, RunningServer],
            telegram_server: tuple[FakeTelegram, RunningServer]) -> Iterator[Channels]:
    """Both channels, with a limit of LIMIT messages per sender per minute."""
    with running_channels(f"sqlite:///{tmp_path / 'limited.db'}", channel_parser,
                          twilio=twilio_server, telegram=telegram_server,
                          nlu_cache_dir=nlu_cache_dir,
                          SENDER_RATE_LIMIT_PER_MINUTE=LIMIT) as made:
        yield made


POLITE = bot_text("rate_limited")


def _inbound(channels: Channels, address: str) -> list[dict[str, Any]]:
    conversations = {c["id"] for c in channels.conversations(Conversation.address == address)}
    return [r for r in channels.transcript_rows(TranscriptMessage.direction == "in")
            if r["conversation_id"] in conversations]


def test_past_the_limit_messages_are_stored_not_processed_and_told_once(
    limited: Channels,
) -> None:
    answers = [limited.sms_text(JENS_PHONE, f"saldo {i}") for i in range(LIMIT + 4)]
    assert all("Frikort 48213" in answer for answer in answers[:LIMIT]), answers
    assert answers[LIMIT] == POLITE
    assert answers[LIMIT + 1:] == ["", "", ""]
    stored = _inbound(limited, JENS_PHONE)
    assert [r["text"] for r in stored] == [f"saldo {i}" for i in range(LIMIT + 4)]
    assert [r["intent"] for r in stored[LIMIT:]] == ["rate_limited"] * 4
    assert all(r["processed_at"] is not None for r in stored)


def test_past_the_limit_a_message_has_no_effect(limited: Channels) -> None:
    before = limited.posted_ore(JENS_CARD)
    for i in range(LIMIT):
        limited.sms_text(CAFE_PHONE, f"hej {i}")
    assert limited.sms_text(CAFE_PHONE, REPORT) == POLITE
    assert limited.sms_text(CAFE_PHONE, "ja") == ""
    assert limited.rows(WageReport, WageReport.source_channel == "sms") == []
    assert limited.posted_ore(JENS_CARD) == before


def test_a_crisis_message_is_always_handled_however_fast_someone_writes(
    limited: Channels,
) -> None:
    for i in range(LIMIT + 3):
        limited.sms_text(JENS_PHONE, f"hjælp {i}")
    answer = limited.sms_text(JENS_PHONE, CRISIS)
    assert "112" in answer and "Livslinien" in answer, answer
    (conversation,) = limited.conversations(Conversation.address == JENS_PHONE)
    urgent = limited.rows(Escalation, Escalation.conversation_id == conversation["id"])
    assert [e["urgent"] for e in urgent] in ([True], [1]), urgent


def test_stop_and_start_are_always_honoured(limited: Channels) -> None:
    for i in range(LIMIT + 3):
        limited.sms_text(JENS_PHONE, f"hej {i}")
    assert "ikke flere beskeder" in limited.sms_text(JENS_PHONE, "STOP")
    (conversation,) = limited.conversations(Conversation.address == JENS_PHONE)
    assert conversation["opted_out"] in (True, 1)
    assert "Velkommen tilbage" in limited.sms_text(JENS_PHONE, "START")


def test_the_limit_is_per_channel_and_address_and_the_window_slides(limited: Channels) -> None:
    for i in range(LIMIT + 1):
        limited.sms_text(JENS_PHONE, f"saldo {i}")
    assert limited.sms_text(JENS_PHONE, "saldo") == ""
    assert "Frikort 48213" not in limited.sms_text(JENS_PHONE, "saldo")
    # Others are not affected: another number, and the same digits as a Telegram chat.
    assert limited.sms_text(CAFE_PHONE, "hej")
    assert limited.tg(tg_text_update(int(JENS_PHONE[1:]), "hej")).status_code == 200
    assert len(limited.outbox(OutboxMessage.channel == "telegram")) == 1
    # A minute later Jens is answered again.
    limited.clock.advance(seconds=61)
    assert "Frikort 48213" in limited.sms_text(JENS_PHONE, "saldo")


def test_a_retry_of_a_limited_message_gets_the_same_answer_and_is_not_counted(
    limited: Channels,
) -> None:
    for i in range(LIMIT):
        limited.sms_text(JENS_PHONE, f"saldo {i}")
    sid = new_message_sid()
    first = limited.sms_text(JENS_PHONE, "saldo", sid=sid)
    assert first == POLITE
    assert limited.sms_text(JENS_PHONE, "saldo", sid=sid) == POLITE
    assert len(_inbound(limited, JENS_PHONE)) == LIMIT + 1


def test_on_telegram_the_polite_reply_is_queued_once(
    limited: Channels, fake_telegram: FakeTelegram,
) -> None:
    for i in range(LIMIT + 3):
        assert limited.tg(tg_text_update(5_552_001, f"hej {i}")).status_code == 200
    texts = [m["text"] for m in limited.outbox(OutboxMessage.recipient == "5552001")]
    assert texts.count(POLITE) == 1
    assert len(texts) == LIMIT + 1


def test_the_count_is_shared_by_every_worker_process(
    limited: Channels, twilio_server: tuple[FakeTwilio, RunningServer],
) -> None:
    """A second app with its own ledger, engine and memory on the same database: what one
    worker counted, the other sees."""
    settings = channel_settings(limited.url, twilio=twilio_server[1], telegram=None,
                                SENDER_RATE_LIMIT_PER_MINUTE=LIMIT)
    other_ledger = fast_ledger(limited.url, limited.clock)
    other = create_app(settings, ledger=other_ledger, parser=limited.app.state.services.parser)
    try:
        with TestClient(other) as second:
            for i in range(LIMIT):
                limited.sms_text(JENS_PHONE, f"saldo {i}")
            form = twilio_params(JENS_PHONE, "saldo")
            response = second.post(TWILIO_SMS_PATH, data=form,
                                   headers={"X-Twilio-Signature": twilio_signature(form)})
            assert twiml_messages(response.text) == [POLITE]
    finally:
        other_ledger.close()


def test_a_limit_of_zero_turns_it_off(
    tmp_path: Path, channel_parser: Parser, twilio_server: tuple[FakeTwilio, RunningServer],
) -> None:
    with running_channels(f"sqlite:///{tmp_path / 'unlimited.db'}", channel_parser,
                          twilio=twilio_server, telegram=None,
                          SENDER_RATE_LIMIT_PER_MINUTE=0) as unlimited:
        answers = [unlimited.sms_text(JENS_PHONE, "saldo") for _ in range(30)]
        assert all("Frikort 48213" in answer for answer in answers)


# --- Sizes (issue 14, item 4) ----------------------------------------------------------------


def test_an_sms_longer_than_1600_characters_is_cut_with_a_note(channels: Channels) -> None:
    response = channels.sms(JENS_PHONE, "saldo " + "x" * 5000)
    assert response.status_code == 200, response.text
    [stored] = [r["text"] for r in channels.transcript_rows() if r["direction"] == "in"]
    assert stored.startswith("saldo xxx") and stored.count("x") == 1600 - len("saldo ")
    assert stored.endswith("[Beskeden var 5006 tegn lang og er afkortet til de første 1600.]")


def test_a_telegram_text_longer_than_4096_characters_is_cut_with_a_note(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    assert channels.tg(tg_text_update(5_550_001, "y" * 6000)).status_code == 200
    [stored] = [r["text"] for r in channels.transcript_rows() if r["direction"] == "in"]
    assert stored == "y" * 4096 + " [Beskeden var 6000 tegn lang og er afkortet til de " \
        "første 4096.]"


def test_messages_that_fit_are_stored_as_sent(channels: Channels) -> None:
    channels.sms(JENS_PHONE, "z" * 1600)
    [stored] = [r["text"] for r in channels.transcript_rows() if r["direction"] == "in"]
    assert stored == "z" * 1600


# --- Telegram buttons (issue 14, item 6) ------------------------------------------------------

TG_EMPLOYER = 5_551_009
STALE = "Knappen hører ikke til det spørgsmål, der venter på svar nu"


def _a_waiting_report(channels: Channels) -> int:
    from tests.api.test_webhooks_telegram import telegram_employer

    telegram_employer(channels, TG_EMPLOYER)
    assert channels.tg(tg_text_update(TG_EMPLOYER, REPORT)).status_code == 200
    channels.deliver_all()
    return channels.buttons_message_id(TG_EMPLOYER)


def _refused(channels: Channels, fake_telegram: FakeTelegram, press: dict[str, Any]) -> None:
    rows_before = len(channels.transcript_rows())
    pending_before = channels.ledger.balance(JENS_CARD).pending_ore
    answered_before = len(fake_telegram.calls("answerCallbackQuery"))
    assert channels.tg(press).status_code == 200
    toasts = fake_telegram.calls("answerCallbackQuery")[answered_before:]
    assert [t["callback_query_id"] for t in toasts] == [press["callback_query"]["id"]]
    assert STALE in toasts[0]["text"]
    assert len(channels.transcript_rows()) == rows_before  # nothing stored or answered
    assert channels.ledger.balance(JENS_CARD).pending_ore == pending_before


def test_a_button_naming_another_chat_than_the_sender_changes_nothing(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    """The sender 5_551_010 names the employer's chat and its waiting question: refused."""
    message_id = _a_waiting_report(channels)
    before = channels.posted_ore(JENS_CARD)
    _refused(channels, fake_telegram, tg_callback_update(
        TG_EMPLOYER, "JA", bot_id=fake_telegram.bot_id, message_id=message_id,
        from_user=5_551_010))
    assert channels.posted_ore(JENS_CARD) == before


def test_a_button_on_another_message_or_with_other_data_changes_nothing(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    message_id = _a_waiting_report(channels)
    before = channels.posted_ore(JENS_CARD)
    for press in (
        tg_callback_update(TG_EMPLOYER, "JA", bot_id=fake_telegram.bot_id,
                           message_id=message_id - 1),  # an older message in the chat
        tg_callback_update(TG_EMPLOYER, "SALDO", bot_id=fake_telegram.bot_id,
                           message_id=message_id),  # data the question never offered
    ):
        _refused(channels, fake_telegram, press)
    assert channels.posted_ore(JENS_CARD) == before
    # The real button still works afterwards.
    channels.tg(tg_callback_update(TG_EMPLOYER, "JA", bot_id=fake_telegram.bot_id,
                                   message_id=message_id))
    assert channels.posted_ore(JENS_CARD) == before + 600_00


def test_a_button_on_a_question_already_answered_changes_nothing(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    """NEJ by text voids the report; pressing JA on the old question afterwards (a new press,
    not a retry) must not post it."""
    message_id = _a_waiting_report(channels)
    before = channels.posted_ore(JENS_CARD)
    channels.tg(tg_text_update(TG_EMPLOYER, "nej"))
    _refused(channels, fake_telegram, tg_callback_update(
        TG_EMPLOYER, "JA", bot_id=fake_telegram.bot_id, message_id=message_id))
    assert channels.posted_ore(JENS_CARD) == before


def test_a_button_pressed_before_the_outbox_wrote_down_the_message_id_counts(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    """Under load the press can arrive before the outbox marks the question sent (the
    provider has shown it, its id is not stored yet): the same chat and one of the question's
    own buttons are then enough; another button is still refused (found by the load harness)."""
    from tests.api.test_webhooks_telegram import telegram_employer

    telegram_employer(channels, TG_EMPLOYER)
    assert channels.tg(tg_text_update(TG_EMPLOYER, REPORT)).status_code == 200
    [question] = [r for r in channels.outbox() if r["recipient"] == str(TG_EMPLOYER)
                  and r["buttons_json"] != "[]"]
    assert question["provider_message_id"] is None  # queued, not yet marked sent
    before = channels.posted_ore(JENS_CARD)
    _refused(channels, fake_telegram, tg_callback_update(
        TG_EMPLOYER, "SALDO", bot_id=fake_telegram.bot_id, message_id=999))
    assert channels.tg(tg_callback_update(TG_EMPLOYER, "JA", bot_id=fake_telegram.bot_id,
                                          message_id=999)).status_code == 200
    assert channels.posted_ore(JENS_CARD) == before + 600_00
