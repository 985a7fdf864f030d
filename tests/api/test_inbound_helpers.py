"""Inbound webhook helpers: Twilio signatures and TwiML, Telegram secret and update parsing.

Signatures are computed in the test with the twilio package's own RequestValidator and the same
auth token, the way Twilio computes them; the update JSONs are shaped like real Bot API updates.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from api.channels.telegram_inbound import (
    InvalidUpdate,
    TelegramInbound,
    is_valid_secret,
    parse_update,
)
from api.channels.twilio_inbound import is_valid_twilio_signature, twiml_reply

AUTH_TOKEN = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a90"
URL = "https://frikort.example.dk/webhooks/twilio/sms"
FORM = {
    "ToCountry": "DK",
    "SmsMessageSid": "SM0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a",
    "NumMedia": "0",
    "Body": "indberet 4 timer 600 kr frikort 48213",
    "From": "+4520123456",
    "To": "+4570121314",
    "MessageSid": "SM0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a",
    "AccountSid": "AC" + "1f" * 16,
    "NumSegments": "1",
    "ApiVersion": "2010-04-01",
}


def signed(url: str = URL, form: dict[str, str] = FORM, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


# --- Twilio signature -------------------------------------------------------------------------


class TestTwilioSignature:
    def test_signature_computed_with_our_token_is_valid(self) -> None:
        assert is_valid_twilio_signature(AUTH_TOKEN, URL, FORM, signed()) is True

    def test_url_with_query_string_is_signed_as_a_whole(self) -> None:
        url = f"{URL}?channel=sms&x=1"
        assert is_valid_twilio_signature(AUTH_TOKEN, url, FORM, signed(url)) is True
        assert is_valid_twilio_signature(AUTH_TOKEN, URL, FORM, signed(url)) is False

    @pytest.mark.parametrize("signature", [None, "", "   "])
    def test_missing_signature_is_invalid(self, signature: str | None) -> None:
        assert is_valid_twilio_signature(AUTH_TOKEN, URL, FORM, signature) is False

    def test_signature_from_another_token_is_forged(self) -> None:
        forged = signed(token="0" * 32)
        assert is_valid_twilio_signature(AUTH_TOKEN, URL, FORM, forged) is False

    def test_random_signature_is_forged(self) -> None:
        assert is_valid_twilio_signature(AUTH_TOKEN, URL, FORM, "bm90IGEgc2lnbmF0dXJl") is False

    @pytest.mark.parametrize(
        "other_url",
        [
            "http://frikort.example.dk/webhooks/twilio/sms",  # proxy changed the scheme
            "https://frikort-staging.example.dk/webhooks/twilio/sms",
            "https://frikort.example.dk/webhooks/twilio/sms/",
            "https://frikort.example.dk/webhooks/telegram",
        ],
    )
    def test_mismatched_url_is_invalid(self, other_url: str) -> None:
        assert is_valid_twilio_signature(AUTH_TOKEN, other_url, FORM, signed()) is False

    def test_tampered_body_is_invalid(self) -> None:
        tampered = {**FORM, "Body": "indberet 40 timer 6000 kr frikort 48213"}
        assert is_valid_twilio_signature(AUTH_TOKEN, URL, tampered, signed()) is False

    def test_added_parameter_is_invalid(self) -> None:
        extra = {**FORM, "Injected": "1"}
        assert is_valid_twilio_signature(AUTH_TOKEN, URL, extra, signed()) is False

    def test_empty_auth_token_never_validates(self) -> None:
        assert is_valid_twilio_signature("", URL, FORM, signed(token="")) is False


# --- TwiML ----------------------------------------------------------------------------------


class TestTwiml:
    def test_one_message_element_per_text_in_order(self) -> None:
        texts = ["Tak! Din løn på 600,00 kr. er indberettet.", "Skriv SALDO for at se mere."]

        xml = twiml_reply(texts)

        assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
        root = ET.fromstring(xml.encode("utf-8"))
        assert root.tag == "Response"
        assert [(child.tag, child.text) for child in root] == [("Message", t) for t in texts]

    def test_special_characters_are_escaped_and_kept(self) -> None:
        text = 'Ærø & Åbenrå <ikke HTML> "citat"'

        root = ET.fromstring(twiml_reply([text]).encode("utf-8"))

        assert [child.text for child in root] == [text]

    def test_no_texts_gives_an_empty_response(self) -> None:
        xml = twiml_reply([])

        root = ET.fromstring(xml.encode("utf-8"))
        assert root.tag == "Response"
        assert list(root) == []
        assert not (root.text or "").strip()


# --- Telegram secret ------------------------------------------------------------------------


class TestTelegramSecret:
    SECRET = "frikort_webhook-Secret_123"

    def test_equal_secret_is_valid(self) -> None:
        assert is_valid_secret(self.SECRET, "frikort_webhook-Secret_123") is True

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "frikort_webhook-secret_123",
            "frikort_webhook-Secret_12",
            "frikort_webhook-Secret_1234",
        ],
    )
    def test_other_or_missing_header_is_invalid(self, header: str | None) -> None:
        assert is_valid_secret(self.SECRET, header) is False

    def test_empty_expected_secret_accepts_nothing(self) -> None:
        assert is_valid_secret("", "") is False

    def test_non_ascii_header_is_simply_invalid(self) -> None:
        assert is_valid_secret(self.SECRET, "frikört") is False


# --- Telegram updates -----------------------------------------------------------------------

USER = {"id": 555000111, "is_bot": False, "first_name": "Åse", "language_code": "da"}
PRIVATE_CHAT = {"id": 555000111, "first_name": "Åse", "type": "private"}
BOT_USER = {"id": 7012345678, "is_bot": True, "first_name": "Frikort-assistenten",
            "username": "frikort_test_bot"}


def message_update(update_id: int = 810000001, **fields: Any) -> dict[str, Any]:
    message = {"message_id": 42, "from": USER, "chat": PRIVATE_CHAT, "date": 1750075200}
    message.update(fields)
    return {"update_id": update_id, "message": message}


TEXT_UPDATE = message_update(text="hvor længe gælder mit frikort?")
START_UPDATE = message_update(
    text="/start", entities=[{"offset": 0, "length": 6, "type": "bot_command"}]
)
CALLBACK_UPDATE = {
    "update_id": 810000002,
    "callback_query": {
        "id": "2386152718923749123",
        "from": USER,
        "message": {
            "message_id": 77,
            "from": BOT_USER,
            "chat": PRIVATE_CHAT,
            "date": 1750075260,
            "text": "Du indberetter 600,00 kr. for 4 timer til frikort 48213. "
            "Svar JA for at bekræfte",
            "reply_markup": {"inline_keyboard": [[{"text": "JA", "callback_data": "JA"},
                                                  {"text": "NEJ", "callback_data": "NEJ"}]]},
        },
        "chat_instance": "-4821937465193847561",
        "data": "JA",
    },
}
OWN_CONTACT_UPDATE = message_update(
    contact={"phone_number": "4520123456", "first_name": "Åse", "user_id": USER["id"]}
)
OTHER_CONTACT_UPDATE = message_update(
    contact={"phone_number": "+4531234567", "first_name": "Bent", "user_id": 999888777}
)
EDITED_UPDATE = {
    "update_id": 810000003,
    "edited_message": {**TEXT_UPDATE["message"], "edit_date": 1750075300, "text": "saldo"},
}
STICKER_UPDATE = message_update(
    sticker={"file_id": "CAACAgIAAxkBAAIB", "file_unique_id": "AgADBAAD", "type": "regular",
             "width": 512, "height": 512, "is_animated": False, "is_video": False}
)
GROUP_UPDATE = message_update(
    chat={"id": -100123456789, "title": "Værestedet", "type": "supergroup"}, text="saldo"
)
CHANNEL_POST_UPDATE = {
    "update_id": 810000004,
    "channel_post": {
        "message_id": 5,
        "chat": {"id": -100987, "title": "Nyheder", "type": "channel"},
        "date": 1750075200,
        "text": "Nyt om frikort",
    },
}


class TestParseUpdate:
    def test_text_message(self) -> None:
        assert parse_update(TEXT_UPDATE) == TelegramInbound(
            update_id=810000001,
            chat_id="555000111",
            user_id="555000111",
            text="hvor længe gælder mit frikort?",
            contact_phone=None,
            callback_query_id=None,
            message_id=42,
        )

    def test_command_is_passed_on_as_text(self) -> None:
        inbound = parse_update(START_UPDATE)
        assert inbound is not None and inbound.text == "/start"

    def test_callback_query_data_becomes_the_text(self) -> None:
        assert parse_update(CALLBACK_UPDATE) == TelegramInbound(
            update_id=810000002,
            chat_id="555000111",
            user_id="555000111",
            text="JA",
            callback_query_id="2386152718923749123",
            message_id=77,
        )

    def test_callback_on_an_inline_message_uses_the_users_private_chat(self) -> None:
        data = copy.deepcopy(CALLBACK_UPDATE)
        del data["callback_query"]["message"]
        data["callback_query"]["inline_message_id"] = "AAAAAQ"

        inbound = parse_update(data)

        assert inbound is not None
        assert (inbound.chat_id, inbound.text, inbound.message_id) == ("555000111", "JA", None)

    def test_callback_in_a_group_chat_is_ignored(self) -> None:
        data = copy.deepcopy(CALLBACK_UPDATE)
        data["callback_query"]["message"]["chat"] = GROUP_UPDATE["message"]["chat"]
        assert parse_update(data) is None

    def test_own_contact_gives_the_phone_in_e164(self) -> None:
        inbound = parse_update(OWN_CONTACT_UPDATE)

        assert inbound is not None
        assert inbound.contact_phone == "+4520123456"
        assert inbound.contact_shared is True
        assert inbound.text == ""

    def test_someone_elses_contact_gives_no_phone(self) -> None:
        inbound = parse_update(OTHER_CONTACT_UPDATE)

        assert inbound is not None
        assert inbound.contact_phone is None
        assert inbound.contact_shared is True

    def test_own_contact_with_an_impossible_number_gives_no_phone(self) -> None:
        data = message_update(contact={"phone_number": "123", "first_name": "Åse",
                                       "user_id": USER["id"]})
        inbound = parse_update(data)
        assert inbound is not None and inbound.contact_phone is None

    def test_caption_counts_as_text(self) -> None:
        data = message_update(
            photo=[{"file_id": "AgAC", "file_unique_id": "AQAD", "width": 90, "height": 90}],
            caption="hvad betyder brevet?",
        )
        inbound = parse_update(data)
        assert inbound is not None and inbound.text == "hvad betyder brevet?"

    @pytest.mark.parametrize(
        "data",
        [EDITED_UPDATE, STICKER_UPDATE, GROUP_UPDATE, CHANNEL_POST_UPDATE],
        ids=["edited_message", "sticker", "group_chat", "channel_post"],
    )
    def test_updates_we_ignore(self, data: dict[str, Any]) -> None:
        assert parse_update(data) is None

    def test_input_is_not_modified(self) -> None:
        data = copy.deepcopy(CALLBACK_UPDATE)
        parse_update(data)
        assert data == CALLBACK_UPDATE

    @pytest.mark.parametrize(
        "data",
        [
            {},
            {"message": TEXT_UPDATE["message"]},
            {"update_id": "1"},
            [],
            {"update_id": 1, "message": "saldo"},
            {"update_id": 1, "message": {"message_id": 1, "text": "saldo"}},
        ],
        ids=["empty", "no_update_id", "string_update_id", "not_a_dict", "message_not_object",
             "message_without_chat"],
    )
    def test_not_an_update_is_rejected(self, data: Any) -> None:
        with pytest.raises(InvalidUpdate):
            parse_update(data)
