"""The console's privacy helpers and message texts, without a database: CPR redaction in step
with the NLU's, masked addresses, checked staff text, the applicant messages."""

from __future__ import annotations

import datetime as dt

import pytest

from casework import texts
from casework.overview import FALLBACK_INTENT
from db.errors import DomainError
from nlu import FALLBACK_INTENT as NLU_FALLBACK_INTENT
from nlu import redact_cpr as nlu_redact_cpr
from staff.redaction import clean_text, mask_address, preview, redact_cpr

SAMPLES = [
    "mit cpr er 0101901234",
    "cpr: 010190-1234 og 311299 1234",
    "ikke et cpr: 3213991234, 12345678, +4520304050, 0101901234567",
    "to: 0202021234,0303031234.",
    "tlf 20 30 40 50 og kort 48213",
    "",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_redaction_agrees_with_the_nlu(text: str) -> None:
    assert redact_cpr(text) == nlu_redact_cpr(text)


def test_redaction_hides_every_cpr() -> None:
    assert redact_cpr("cpr 010190-1234 ok") == "cpr [CPR] ok"
    assert "0101901234" not in preview("x 0101901234 y", 80)


def test_the_fallback_intent_is_the_one_the_bot_records() -> None:
    assert FALLBACK_INTENT == NLU_FALLBACK_INTENT


@pytest.mark.parametrize("kind,address,masked", [
    ("phone", "+4520304050", "+45 xx xx xx 50"),
    ("sms", "+4520304050", "+45 xx xx xx 50"),
    ("telegram", "123456789", "Telegram …89"),
    ("phone", "+46701234567", "+46 … 67"),
    ("web", "web-abcdef", "…ef"),
])
def test_masked_addresses_keep_only_the_last_two_characters(kind: str, address: str,
                                                            masked: str) -> None:
    assert mask_address(kind, address) == masked


@pytest.mark.parametrize("text,code", [
    ("   ", "text_required"), ("x" * 21, "text_too_long"), ("cpr 0101901234", "cpr_in_text")])
def test_staff_text_is_refused_with_a_clear_code(text: str, code: str) -> None:
    with pytest.raises(DomainError) as info:
        clean_text(text, 20)
    assert info.value.code == code and info.value.message


def test_staff_text_is_trimmed() -> None:
    assert clean_text("  hej  ", 10) == "hej"


def test_grant_messages_say_number_code_and_how_to_use_it() -> None:
    linked = texts.grant("Lone Marie Jensen", "48213", "0042", dt.date(2025, 7, 1), linked=True)
    assert linked.startswith("Godt nyt, Lone:")
    assert "48213" in linked and "LINK 48213 0042" in linked and "SALDO" in linked
    assert "01.07.2025" in linked and "arbejdsgiver" in linked
    other = texts.grant("Lone", "48213", "0042", dt.date(2025, 7, 1), linked=False)
    assert "LINK 48213 0042 her" in other and "SALDO" not in other
    for message in (linked, other):
        assert "{" not in message and "  " not in message


def test_rejection_message_carries_the_reason_as_a_sentence() -> None:
    message = texts.rejection("Bo Berg", 7, "751", "Du er ikke i målgruppen")
    assert message == (
        "Hej Bo. Din ansøgning om socialt frikort (nr. 7) er desværre ikke godkendt af Aarhus "
        "Kommune. Begrundelse: Du er ikke i målgruppen. Har du spørgsmål, så kontakt Aarhus "
        "Kommune.")
    assert "din kommune" in texts.rejection("Bo", 7, None, "Nej!")
