"""POST /webhooks/telegram end to end: update JSON in (PTB custom webhook), the replies through
the outbox to a fake Telegram Bot API on loopback. Nothing in the app is patched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger import CreateEmployment, RegisterEmployer, VerifyEmployer
from nlu import Parser
from tests.api.channel_fixtures import (
    JENS_CARD,
    JENS_PHONE,
    METTE_CARD,
    METTE_PHONE,
    TELEGRAM_SECRET,
    Channels,
    assert_problem,
    running_channels,
    tg_callback_update,
    tg_contact_update,
    tg_text_update,
)
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.ledger.support import ADMIN, valid_cvr

EMPLOYER_CHAT = 5_550_001
METTE_CHAT = 5_550_002
STRANGER_CHAT = 5_550_003
JA_NEJ = {"inline_keyboard": [[{"text": "JA", "callback_data": "JA"},
                               {"text": "NEJ", "callback_data": "NEJ"}]]}


def telegram_employer(channels: Channels, chat_id: int = EMPLOYER_CHAT) -> str:
    """A verified employer known by its Telegram id, employing Jens."""
    cvr = valid_cvr(4242)
    ledger = channels.ledger
    ledger.register_employer(RegisterEmployer(cvr=cvr, name="Bageriet Kringlen ApS",
                                              telegram_id=str(chat_id)), actor=ADMIN)
    ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    ledger.create_employment(CreateEmployment(
        employer_cvr=cvr, card_number=JENS_CARD, start_date=dt.date(2026, 6, 1),
        weekly_hours=Decimal("3")), actor=ADMIN)
    return cvr


def sent_to(fake: FakeTelegram, chat_id: int) -> list[dict[str, Any]]:
    return [c for c in fake.calls("sendMessage") if str(c["chat_id"]) == str(chat_id)]


def test_a_text_update_is_answered_through_the_outbox_with_ja_nej_buttons_on_a_read_back(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    telegram_employer(channels)
    response = channels.tg(tg_text_update(EMPLOYER_CHAT, "indberet 4 timer 600 kr frikort 48213"))

    assert response.status_code == 200, response.text
    [queued] = channels.outbox()
    assert (queued["channel"], queued["recipient"]) == ("telegram", str(EMPLOYER_CHAT))
    assert fake_telegram.calls("sendMessage") == []  # not before the worker runs

    assert channels.deliver_all() == 1
    [sent] = fake_telegram.calls("sendMessage")
    assert str(sent["chat_id"]) == str(EMPLOYER_CHAT)
    assert "Du indberetter 600,00 kr. for 4 timer til frikort 48213" in sent["text"], sent
    assert sent["reply_markup"] == JA_NEJ
    [row] = channels.outbox()
    assert row["status"] == "sent" and row["provider_message_id"]


def test_pressing_ja_works_like_typing_ja_and_the_button_is_answered(
    channels_any_db: Channels, fake_telegram: FakeTelegram, fake_twilio: FakeTwilio,
) -> None:
    channels = channels_any_db
    telegram_employer(channels)
    before = channels.posted_ore(JENS_CARD)
    channels.tg(tg_text_update(EMPLOYER_CHAT, "indberet 4 timer 600 kr frikort 48213"))
    channels.deliver_all()

    press = tg_callback_update(EMPLOYER_CHAT, "JA", bot_id=fake_telegram.bot_id,
                               message_id=channels.buttons_message_id(EMPLOYER_CHAT))
    response = channels.tg(press)

    assert response.status_code == 200, response.text
    [answered] = fake_telegram.calls("answerCallbackQuery")
    assert answered["callback_query_id"] == press["callback_query"]["id"]
    assert channels.posted_ore(JENS_CARD) == before + 600_00
    channels.deliver_all()
    confirmation = sent_to(fake_telegram, EMPLOYER_CHAT)[-1]
    assert "Tak! 600,00 kr. er indberettet på frikort 48213" in confirmation["text"]
    assert "reply_markup" not in confirmation or not confirmation["reply_markup"]
    # The card holder is told by SMS: both channels end up in the same ledger and outbox.
    [sms] = fake_twilio.messages()
    assert sms["To"] == JENS_PHONE and "Bageriet Kringlen ApS" in sms["Body"]


def test_a_read_back_asked_again_after_a_question_has_its_buttons_and_they_work(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    telegram_employer(channels)
    before = channels.posted_ore(JENS_CARD)
    channels.tg(tg_text_update(EMPLOYER_CHAT, "indberet 4 timer 600 kr frikort 48213"))
    channels.deliver_all()
    channels.tg(tg_text_update(EMPLOYER_CHAT, "skal vi betale feriepenge oveni?"))
    channels.deliver_all()
    asked_again = sent_to(fake_telegram, EMPLOYER_CHAT)[-1]
    assert "Tilbage til indberetningen" in asked_again["text"]
    assert asked_again["reply_markup"] == JA_NEJ
    channels.tg(tg_callback_update(EMPLOYER_CHAT, "JA", bot_id=fake_telegram.bot_id,
                                   message_id=channels.buttons_message_id(EMPLOYER_CHAT)))
    assert channels.posted_ore(JENS_CARD) == before + 600_00


def test_pressing_nej_voids_the_report(channels: Channels, fake_telegram: FakeTelegram) -> None:
    telegram_employer(channels)
    before = channels.posted_ore(JENS_CARD)
    channels.tg(tg_text_update(EMPLOYER_CHAT, "indberet 4 timer 600 kr frikort 48213"))
    channels.deliver_all()
    channels.tg(tg_callback_update(EMPLOYER_CHAT, "NEJ", bot_id=fake_telegram.bot_id,
                                   message_id=channels.buttons_message_id(EMPLOYER_CHAT)))
    channels.deliver_all()
    assert "annulleret" in sent_to(fake_telegram, EMPLOYER_CHAT)[-1]["text"]
    assert channels.ledger.balance(JENS_CARD).pending_ore == 0
    assert channels.posted_ore(JENS_CARD) == before


def test_without_the_right_secret_the_update_is_refused_401_and_nothing_happens(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    for secret in (None, "wrong-secret", "", TELEGRAM_SECRET + "x", TELEGRAM_SECRET[:-1]):
        response = channels.tg(tg_text_update(STRANGER_CHAT, "hej"), secret=secret)
        assert_problem(response, 401, "unauthorized")
    assert channels.transcript_rows() == []
    assert channels.outbox() == []
    assert fake_telegram.requests == []  # not even getMe


def test_a_duplicate_update_id_gets_one_reply_only(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    update = tg_text_update(STRANGER_CHAT, "hej")
    assert channels.tg(update).status_code == 200
    assert channels.tg(update).status_code == 200
    channels.deliver_all()
    assert channels.tg(update).status_code == 200  # a third copy, after delivery
    channels.deliver_all()
    assert len(sent_to(fake_telegram, STRANGER_CHAT)) == 1
    assert len([r for r in channels.transcript_rows() if r["direction"] == "in"]) == 1


def test_sharing_ones_own_contact_with_a_linked_phone_links_the_telegram_account(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    before = channels.tg(tg_text_update(METTE_CHAT, "saldo", first_name="Mette"))
    assert before.status_code == 200
    channels.deliver_all()
    assert METTE_CARD not in sent_to(fake_telegram, METTE_CHAT)[-1]["text"]

    assert channels.tg(tg_contact_update(METTE_CHAT, METTE_PHONE)).status_code == 200
    channels.deliver_all()
    assert f"frikort {METTE_CARD}" in sent_to(fake_telegram, METTE_CHAT)[-1]["text"]

    channels.tg(tg_text_update(METTE_CHAT, "saldo", first_name="Mette"))
    channels.deliver_all()
    balance = sent_to(fake_telegram, METTE_CHAT)[-1]["text"]
    assert f"Frikort {METTE_CARD}" in balance and "Du har tjent 0,00 kr." in balance, balance


def test_sharing_someone_elses_contact_links_nothing(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    """Telegram lets a user share any contact; only their own (user_id == from.id) counts."""
    response = channels.tg(tg_contact_update(STRANGER_CHAT, METTE_PHONE,
                                             contact_user_id=METTE_CHAT))
    assert response.status_code == 200
    channels.tg(tg_text_update(STRANGER_CHAT, "saldo"))
    channels.deliver_all()
    texts = " ".join(c["text"] for c in sent_to(fake_telegram, STRANGER_CHAT))
    assert METTE_CARD not in texts and "0,00 kr." not in texts, texts


def test_without_telegram_settings_the_webhook_answers_503(
    tmp_path: Path, channel_parser: Parser,
) -> None:
    with running_channels(f"sqlite:///{tmp_path / 'no-telegram.db'}", channel_parser,
                          twilio=None, telegram=None) as bare:
        response = bare.tg(tg_text_update(STRANGER_CHAT, "hej"))
        assert_problem(response, 503, "channel_not_configured")
        assert bare.transcript_rows() == []


MALFORMED = ['{"update_id": 1, "message": ', "not json at all", ""]
NOT_UPDATES = ["[]", '"update"', "42", "null", "{}", '{"update_id": "abc"}',
               '{"update_id": 5, "message": "hej"}', '{"update_id": 6, "callback_query": []}']


def test_malformed_json_and_json_that_is_not_an_update_are_400_not_500(
    channels: Channels,
) -> None:
    for body in MALFORMED + NOT_UPDATES:
        response = channels.tg(body)
        assert response.status_code == 400, (body, response.status_code, response.text)
        assert_problem(response, 400, "invalid_input")
    assert channels.transcript_rows() == []


def test_updates_we_ignore_are_acknowledged_without_an_answer(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    """A group chat (personal data must not go there) and an edited message: 200, silence."""
    group = tg_text_update(STRANGER_CHAT, "saldo")
    group["message"]["chat"] = {"id": -100123, "title": "Værestedet", "type": "supergroup"}
    edited = tg_text_update(STRANGER_CHAT, "saldo")
    edited["edited_message"] = edited.pop("message")
    edited["edited_message"]["edit_date"] = edited["edited_message"]["date"] + 5
    for update in (group, edited):
        assert channels.tg(update).status_code == 200
    assert channels.deliver_all() == 0
    assert fake_telegram.calls("sendMessage") == []
    assert channels.transcript_rows() == []


def test_sharing_a_contact_when_already_linked_to_another_card_is_answered_not_a_5xx_loop(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    """Mette's Telegram is linked; later she shares her own contact with a number that belongs
    to Jens's card (a phone that changed hands). A 5xx makes Telegram redeliver the same update
    for hours, so the user must get an answer (200) rather than an error."""
    channels.tg(tg_contact_update(METTE_CHAT, METTE_PHONE))
    response = channels.tg(tg_contact_update(METTE_CHAT, JENS_PHONE))
    assert response.status_code == 200, response.text
    channels.deliver_all()
    assert len(sent_to(fake_telegram, METTE_CHAT)) == 2
