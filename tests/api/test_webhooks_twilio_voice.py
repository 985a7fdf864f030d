"""The phone line end to end: signed Twilio Voice webhooks in, TwiML out (parsed as XML), the
outbox to the fake Twilio on loopback. Nothing in the app is patched; the ledger's FakeClock
starts on Monday 23.11.2026 at 11:00 Danish time, within the demo offices' opening hours."""

from __future__ import annotations

import json

from db.conversation_tables import Escalation, OutboxMessage, TranscriptMessage
from tests.api.channel_fixtures import (
    CAFE_PHONE,
    JENS_CARD,
    JENS_PHONE,
    PUBLIC_BASE_URL,
    TWILIO_VOICE_PATH,
    UNKNOWN_PHONE,
    Call,
    Channels,
    assert_problem,
    twilio_signature,
    twiml_call_parts,
    voice_params,
)
from tests.fakes.twilio_api import FakeTwilio

AARHUS_DEMO_OFFICE = "+4570100751"
JENS_EARNED_SPOKEN = "to tusind og toogtres kroner og halvtreds øre"


def test_a_call_is_greeted_in_danish_and_listens_for_speech_and_keys(channels: Channels) -> None:
    call = Call(channels, JENS_PHONE)
    answer = twiml_call_parts(call.start().text)

    assert "Hej Jens" in answer.text
    assert answer.languages == {"da-DK"}
    assert answer.gather is not None
    assert answer.gather["input"] == "speech dtmf" and answer.gather["language"] == "da-DK"
    assert answer.gather["action"] == f"{PUBLIC_BASE_URL}{TWILIO_VOICE_PATH}/gather?step=1"
    assert answer.gather["actionOnEmptyResult"] == "true"
    assert not answer.hangup and answer.dial is None


def test_a_balance_by_voice_needs_the_last_two_digits_and_is_read_as_words(
    channels: Channels, fake_twilio: FakeTwilio,
) -> None:
    call = Call(channels, JENS_PHONE)
    call.start()
    asked = call.say("hvad har jeg tjent")
    assert "sidste to cifre" in asked.text
    assert asked.gather is not None and asked.gather["numDigits"] == "2"
    assert asked.gather["input"] == "dtmf"
    assert "kroner" not in asked.text  # nothing personal before the check

    wrong = call.keys("99")
    assert "passer ikke" in wrong.text and "kroner" not in wrong.text

    told = call.keys(JENS_CARD[-2:])
    assert JENS_EARNED_SPOKEN in told.text, told.text
    assert "2.062" not in told.text  # no figures written for the eye
    assert told.said[-1] == "Tryk 1."  # "Vil du have det på SMS? Tryk 1."

    sent = call.keys("1")
    assert "sendt det på SMS" in sent.text
    [copy] = channels.outbox(OutboxMessage.recipient == JENS_PHONE)
    assert copy["channel"] == "sms" and "2.062,50 kr." in copy["text"]
    assert channels.deliver_all() == 1
    assert [m["To"] for m in fake_twilio.messages()] == [JENS_PHONE]

    # The call's turns are in Jens's SMS conversation, each line marked as a call.
    [conversation] = channels.conversations()
    assert (conversation["channel"], conversation["address"]) == ("sms", JENS_PHONE)
    channels_seen = {r["channel"] for r in channels.transcript_rows()}
    assert channels_seen == {"voice", "sms"}


def test_forged_or_tampered_voice_requests_are_403_and_store_nothing(channels: Channels) -> None:
    call = Call(channels, JENS_PHONE)
    path = f"{TWILIO_VOICE_PATH}/gather?step=1"
    form = voice_params(JENS_PHONE, call.sid, SpeechResult="saldo", Confidence="0.9")
    cases = {
        "missing": None,
        "forged": "dGhpcyBpcyBub3QgYSBzaWduYXR1cmU=",
        "other_step": twilio_signature(form, url=f"{PUBLIC_BASE_URL}{TWILIO_VOICE_PATH}"
                                                  "/gather?step=2"),
        "other_token": twilio_signature(form, url=PUBLIC_BASE_URL + path, token="0" * 32),
        "sms_url": twilio_signature(form, url=PUBLIC_BASE_URL + "/webhooks/twilio/sms"),
    }
    for case, signature in cases.items():
        response = call.post(path, form, signature=signature)
        assert_problem(response, 403, "forbidden")
        assert channels.transcript_rows() == [], case
    tampered = {**form, "Digits": "1"}  # signed without the key press
    response = call.post(path, tampered, signature=twilio_signature(form,
                                                                    url=PUBLIC_BASE_URL + path))
    assert_problem(response, 403, "forbidden")
    status = call.post(f"{TWILIO_VOICE_PATH}/status", voice_params(JENS_PHONE, call.sid,
                                                                   CallStatus="completed"),
                       signature="forged")
    assert_problem(status, 403, "forbidden")
    assert channels.transcript_rows() == [] and channels.conversations() == []


def test_a_replayed_step_gets_the_first_twiml_and_sends_no_second_sms(
    channels_any_db: Channels,
) -> None:
    channels = channels_any_db  # de-duplication by CallSid and step, on both databases
    call = Call(channels, JENS_PHONE)
    call.start()
    call.say("saldo")
    call.keys(JENS_CARD[-2:])
    step = call.next_step
    first = call.gather(digits="1")
    again = call.gather(digits="1", step=step)

    assert first.status_code == again.status_code == 200
    assert again.text == first.text
    assert len(channels.outbox(OutboxMessage.recipient == JENS_PHONE)) == 1
    pressed = channels.transcript_rows(TranscriptMessage.provider_message_id
                                       == f"{call.sid}:{step}")
    assert len(pressed) == 1


def test_an_unknown_caller_hears_no_figures_and_may_key_a_link_code(channels: Channels) -> None:
    call = Call(channels, UNKNOWN_PHONE)
    call.start()
    answer = call.say("hvad har jeg tjent")
    assert "kan ikke se, hvem du er" in answer.text
    assert "kroner" not in answer.text
    assert answer.gather is not None and answer.gather["numDigits"] == "9"
    wrong = call.keys(f"{JENS_CARD}0000")
    assert "passer ikke" in wrong.text and "kroner" not in wrong.text


def test_a_person_within_opening_hours_is_dialled_and_no_answer_becomes_a_callback(
    channels: Channels,
) -> None:
    call = Call(channels, JENS_PHONE)
    call.start()
    answer = call.keys("3")
    assert "stiller dig om" in answer.text
    assert answer.dial == AARHUS_DEMO_OFFICE
    assert answer.dial_action and "/voice/dial?step=" in answer.dial_action
    assert channels.rows(Escalation) == []  # a person has the call now

    ended = call.dial_ended("no-answer")
    assert "ringe dig op" in ended.text and ended.hangup
    [escalation] = channels.rows(Escalation)
    assert escalation["reason"] == "callback" and not escalation["urgent"]


def test_outside_opening_hours_a_person_is_a_callback_request_first_in_line_after_crisis(
    channels: Channels,
) -> None:
    channels.clock.advance(hours=9)  # 20:00 Danish time: Aarhus is closed
    call = Call(channels, JENS_PHONE)
    call.start()
    answered = call.say("kan jeg tale med en medarbejder")
    assert answered.dial is None and answered.hangup
    assert "lukket" in answered.text and "ringe dig op" in answered.text

    crisis = Call(channels, UNKNOWN_PHONE)
    crisis.start()
    heard = crisis.say("jeg vil ikke leve mere", confidence="0.2")  # heard, however unsure
    assert any("Livslinien" in s for s in heard.slow), heard
    assert any("et, et, to" in s for s in heard.slow), heard
    open_ones = channels.admin("GET", "/api/v1/escalations")
    first = open_ones[0] if isinstance(open_ones, list) else open_ones["items"][0]
    assert first["urgent"] is True


def test_silence_twice_brings_the_keypad_menu_and_a_third_miss_a_person(
    channels: Channels,
) -> None:
    call = Call(channels, JENS_PHONE)
    call.start()
    first = twiml_call_parts(call.gather().text)  # no SpeechResult at all
    assert "forstod jeg ikke" in first.text
    second = call.say("mumle mumle", confidence="0.05")
    assert "Tryk 1 for hvad du har tjent" in second.text and "Tryk 9" in second.text
    third = call.keys("7")  # no such choice
    assert third.dial == AARHUS_DEMO_OFFICE


def test_malformed_voice_requests_are_4xx(channels: Channels) -> None:
    call = Call(channels, JENS_PHONE)
    for path in (f"{TWILIO_VOICE_PATH}/gather", f"{TWILIO_VOICE_PATH}/gather?step=x",
                 f"{TWILIO_VOICE_PATH}/gather?step=0", f"{TWILIO_VOICE_PATH}/gather?step=99999"):
        response = call.post(path, voice_params(JENS_PHONE, call.sid, SpeechResult="saldo"))
        assert_problem(response, 400)
    no_sid = voice_params(JENS_PHONE, call.sid)
    del no_sid["CallSid"]
    assert_problem(call.post(TWILIO_VOICE_PATH, no_sid), 400)
    many = voice_params(JENS_PHONE, call.sid, Digits="1" * 40)
    assert_problem(call.post(f"{TWILIO_VOICE_PATH}/gather?step=1", many), 400)
    assert channels.transcript_rows() == []


def test_a_hang_up_mid_wage_report_voids_the_reservation_and_nothing_is_posted(
    channels_any_db: Channels,
) -> None:
    channels = channels_any_db  # the status callback's turn, on both databases
    before = channels.posted_ore(JENS_CARD)
    call = Call(channels, CAFE_PHONE)
    call.start()
    readback = call.say("indberet 4 timer 600 kr frikort 48213")
    assert "seks hundrede kroner" in readback.text and "Sig ja" in readback.text
    assert channels.ledger.balance(JENS_CARD).pending_ore == 600_00

    assert call.hang_up().status_code == 204
    assert channels.ledger.balance(JENS_CARD).pending_ore == 0
    assert channels.posted_ore(JENS_CARD) == before
    [conversation] = channels.conversations()
    state = json.loads(conversation["state_json"])
    assert "call" not in state and state.get("flow") is None
    assert call.hang_up().status_code == 204  # a repeated callback changes nothing
    # A late "ja" by SMS confirms nothing: the reservation is gone.
    reply = channels.sms_text(CAFE_PHONE, "ja")
    assert "indberettet på frikort" not in reply
    assert channels.posted_ore(JENS_CARD) == before


def test_a_caller_who_also_texts_is_one_person_with_one_state(channels: Channels) -> None:
    """A wage report read back by SMS is confirmed on the phone, in the same conversation."""
    before = channels.posted_ore(JENS_CARD)
    assert "Svar JA" in channels.sms_text(CAFE_PHONE, "indberet 4 timer 600 kr frikort 48213")
    call = Call(channels, CAFE_PHONE)
    call.start()
    confirmed = call.say("ja")
    assert "Seks hundrede kroner er indberettet" in confirmed.text
    assert channels.posted_ore(JENS_CARD) == before + 600_00
    assert len(channels.conversations()) == 1


def test_a_withheld_number_is_nobody_and_cannot_be_rung_back(channels: Channels) -> None:
    call = Call(channels, "+266696687")  # what Twilio sends for an anonymous caller
    call.start()
    answer = call.keys("3")
    assert answer.dial is None and answer.hangup
    assert "skjult" in answer.text
    [conversation] = channels.conversations()
    assert conversation["address"].startswith("skjult-")
    assert channels.rows(Escalation) == []
