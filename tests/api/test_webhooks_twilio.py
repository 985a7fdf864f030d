"""POST /webhooks/twilio/sms end to end: signed form posts in, TwiML out, the outbox to a fake
Twilio Messages API on loopback. Nothing in the app is patched."""

from __future__ import annotations

import re
from pathlib import Path

from danish.gsm7 import GSM7_BASIC
from db.conversation_tables import OutboxMessage, TranscriptMessage
from nlu import Parser
from tests.api.channel_fixtures import (
    CAFE_PHONE,
    JENS_CARD,
    JENS_EARNED,
    JENS_PHONE,
    PUBLIC_BASE_URL,
    TWILIO_FROM,
    TWILIO_SMS_PATH,
    UNKNOWN_PHONE,
    Channels,
    assert_problem,
    new_message_sid,
    running_channels,
    twilio_params,
    twilio_signature,
    twiml_messages,
)
from tests.fakes.twilio_api import FakeTwilio

REPORT = "indberet 4 timer 600 kr frikort 48213"


def test_signed_saldo_from_jens_is_answered_with_twiml_showing_his_balance(
    channels: Channels,
) -> None:
    response = channels.sms(JENS_PHONE, "saldo")

    assert response.status_code == 200, response.text
    media_type = response.headers["content-type"].split(";")[0].strip()
    assert media_type in ("application/xml", "text/xml"), response.headers
    assert response.text.startswith("<?xml")
    [reply] = twiml_messages(response.text)
    assert JENS_CARD in reply and JENS_EARNED in reply, reply
    assert "tjene" in reply  # what is left this year is part of the answer
    # The answer went back in the webhook response, not through the outbox.
    assert channels.outbox() == []


def test_the_signature_is_checked_against_public_base_url_not_the_host_called(
    channels: Channels,
) -> None:
    """The TestClient calls http://testserver/...; only PUBLIC_BASE_URL + path is signed."""
    as_called = "http://testserver" + TWILIO_SMS_PATH
    response = channels.sms(JENS_PHONE, "saldo",
                            signature=lambda form: twilio_signature(form, url=as_called))
    assert_problem(response, 403, "forbidden")


def test_bad_signatures_are_refused_with_403_and_nothing_is_stored(channels: Channels) -> None:
    for case in ("forged", "missing", "empty", "other_url", "other_token", "tampered"):
        params = twilio_params(JENS_PHONE, "saldo")
        signature = {
            "forged": "dGhpcyBpcyBub3QgYSBzaWduYXR1cmU=",
            "missing": None,
            "empty": "",
            "other_url": twilio_signature(params, url=PUBLIC_BASE_URL + "/webhooks/other"),
            "other_token": twilio_signature(params, token="0" * 32),
            "tampered": twilio_signature(params),
        }[case]
        if case == "tampered":  # signed for "saldo", delivered with another body
            params = {**params, "Body": "indberet 40 timer 60000 kr frikort 48213"}

        response = channels.sms(JENS_PHONE, "saldo", params=params, signature=signature)

        body = assert_problem(response, 403, "forbidden")
        assert JENS_CARD not in str(body), case
        assert channels.transcript_rows() == [], case
        assert channels.conversations() == [], case
        assert channels.outbox() == [], case


def test_a_post_without_message_sid_is_a_bad_request_and_stores_nothing(
    channels: Channels,
) -> None:
    params = twilio_params(JENS_PHONE, "saldo")
    del params["MessageSid"]
    response = channels.sms(JENS_PHONE, "saldo", params=params)
    assert_problem(response, 400)
    assert channels.transcript_rows() == []


def test_twilio_retrying_a_message_gets_the_same_twiml_and_no_second_effect(
    channels: Channels, fake_twilio: FakeTwilio,
) -> None:
    """A wage report over SMS; Twilio delivers the employer's JA twice (the first answer was
    lost on the way back). The report is posted once and the card holder told once."""
    before = channels.posted_ore(JENS_CARD)
    readback = channels.sms_text(CAFE_PHONE, REPORT)
    assert "600,00 kr." in readback and "JA" in readback, readback

    yes_sid = new_message_sid()
    first = channels.sms(CAFE_PHONE, "ja", sid=yes_sid)
    retry = channels.sms(CAFE_PHONE, "ja", sid=yes_sid)

    assert first.status_code == retry.status_code == 200
    assert retry.text == first.text
    assert "indberettet" in first.text
    assert channels.posted_ore(JENS_CARD) == before + 600_00
    inbound = channels.transcript_rows(TranscriptMessage.provider_message_id == yes_sid)
    assert len(inbound) == 1
    notices = channels.outbox(OutboxMessage.recipient == JENS_PHONE)
    assert len(notices) == 1, notices

    # A third copy after delivery changes nothing either.
    channels.deliver_all()
    again = channels.sms(CAFE_PHONE, "ja", sid=yes_sid)
    assert again.text == first.text
    assert channels.posted_ore(JENS_CARD) == before + 600_00
    assert [m["To"] for m in fake_twilio.messages()] == [JENS_PHONE]


def test_a_retried_saldo_is_stored_once(channels: Channels) -> None:
    sid = new_message_sid()
    first = channels.sms(JENS_PHONE, "saldo", sid=sid)
    second = channels.sms(JENS_PHONE, "saldo", sid=sid)
    assert first.text == second.text
    inbound = [r for r in channels.transcript_rows() if r["direction"] == "in"]
    assert len(inbound) == 1


def test_without_twilio_settings_the_webhook_answers_503_problem_json(
    tmp_path: Path, channel_parser: Parser,
) -> None:
    with running_channels(f"sqlite:///{tmp_path / 'no-twilio.db'}", channel_parser,
                          twilio=None, telegram=None) as bare:
        # Even a correctly signed post: there is no token to check it with.
        response = bare.sms(JENS_PHONE, "saldo")
        body = assert_problem(response, 503, "channel_not_configured")
        assert "sat op" in body["detail"]  # Danish, says what is wrong
        assert bare.transcript_rows() == []
        # The rest of the server still works.
        assert bare.client.get("/healthz").status_code == 200


def test_full_wage_report_over_sms_posts_and_the_card_holder_gets_an_sms(
    channels_any_db: Channels, fake_twilio: FakeTwilio,
) -> None:
    channels = channels_any_db
    before = channels.posted_ore(JENS_CARD)

    readback = channels.sms_text(CAFE_PHONE, REPORT)
    assert re.search(r"600,00 kr\. for 4 timer til frikort 48213, betalt 23\.11\.2026", readback), \
        readback
    assert channels.posted_ore(JENS_CARD) == before  # nothing posted before JA

    confirmed = channels.sms_text(CAFE_PHONE, "JA")
    assert "Tak! 600,00 kr. er indberettet på frikort 48213" in confirmed, confirmed
    assert channels.posted_ore(JENS_CARD) == before + 600_00

    [queued] = channels.outbox()
    assert (queued["channel"], queued["recipient"], queued["status"]) == ("sms", JENS_PHONE,
                                                                         "pending")
    assert fake_twilio.messages() == []  # queued in the turn, sent by the worker

    assert channels.deliver_all() == 1
    [sent] = fake_twilio.messages()
    assert sent["To"] == JENS_PHONE
    assert sent["From"] == TWILIO_FROM
    assert "Café Solsikken ApS har indberettet 600,00 kr." in sent["Body"], sent["Body"]
    assert "2.662,50 kr." in sent["Body"]  # earned this year, now
    [row] = channels.outbox()
    assert row["status"] == "sent" and row["provider_message_id"].startswith("SM")
    assert channels.deliver_all() == 0
    assert len(fake_twilio.messages()) == 1


def test_an_unknown_number_asking_for_a_balance_gets_no_figures(channels: Channels) -> None:
    reply = channels.sms_text(UNKNOWN_PHONE, "saldo")
    assert "LINK" in reply
    assert JENS_CARD not in reply and "kr." not in reply


def test_replies_over_sms_are_gsm7(channels: Channels) -> None:
    """Quote marks, dashes and emoji would force UCS-2 and triple the cost of every SMS."""
    reply = channels.sms_text(UNKNOWN_PHONE, "hjælp")
    assert reply and set(reply) <= GSM7_BASIC, set(reply) - GSM7_BASIC


def test_a_card_holder_who_sent_stop_gets_no_wage_notification(
    channels: Channels, fake_twilio: FakeTwilio,
) -> None:
    """STOP means no messages at all (but the confirmation), wage notices included."""
    assert "ikke flere beskeder" in channels.sms_text(JENS_PHONE, "STOP")
    channels.sms_text(CAFE_PHONE, REPORT)
    assert "indberettet" in channels.sms_text(CAFE_PHONE, "JA")
    channels.deliver_all()
    assert [m for m in fake_twilio.messages() if m["To"] == JENS_PHONE] == []
