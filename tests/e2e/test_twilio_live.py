"""The harness's own proof: a signed Twilio webhook to the live server, and the outbox worker
delivering to the fake Twilio API in the background, without any test driving it."""

from __future__ import annotations

from typing import Any

from tests.api.channel_fixtures import JENS_PHONE, TWILIO_FROM
from tests.e2e.live import LiveServer

ESCALATIONS = "/api/v1/escalations"


def jens_asks_for_a_person(live: LiveServer) -> dict[str, Any]:
    """Over SMS: Jens asks for a person, and the conversation is escalated at once."""
    [confirmed] = live.send_sms(JENS_PHONE, "hej, jeg vil gerne tale med en person")
    assert "medarbejder" in confirmed and "24 timer" in confirmed, confirmed
    [escalation] = live.admin("GET", ESCALATIONS)
    assert escalation["channel"] == "sms" and escalation["status"] == "waiting", escalation
    return dict(escalation)


def test_a_person_answers_an_sms_escalation_and_the_worker_delivers_it(
    live_server: LiveServer,
) -> None:
    escalation = jens_asks_for_a_person(live_server)
    # The bot answered in the webhook's TwiML; nothing went through the outbox yet.
    assert live_server.twilio.messages() == []

    eid = escalation["id"]
    live_server.admin("POST", f"{ESCALATIONS}/{eid}/take", json={"owner": "Sara (Aarhus)"})
    text = "Hej Jens. Jeg hedder Sara. Jeg ringer til dig i morgen kl. 10."
    live_server.admin("POST", f"{ESCALATIONS}/{eid}/reply", status=202,
                      json={"text": text, "author": "Sara (Aarhus)"})

    sms = live_server.wait_for_sms(JENS_PHONE, "Jeg hedder Sara", timeout=10)
    assert (sms["From"], sms["Body"]) == (TWILIO_FROM, text)
    assert [m["To"] for m in live_server.twilio.messages()] == [JENS_PHONE]


def test_an_sms_signed_for_another_address_is_refused(live_server: LiveServer) -> None:
    """The live server checks signatures against its own PUBLIC_BASE_URL, so a test signing
    the real way is what makes the other tests pass."""
    good = live_server.post_sms(JENS_PHONE, "saldo")
    assert good.status_code == 200, good.text
    forged = live_server.http.post("/webhooks/twilio/sms", data={"From": JENS_PHONE,
                                   "Body": "saldo", "MessageSid": "SM" + "0" * 32},
                                   headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})
    assert forged.status_code == 403, forged.text
