"""/api/v1/escalations end to end: conversations escalated over SMS and Telegram, taken,
answered by a person through the outbox (to the fake providers), and handed back to the bot."""

from __future__ import annotations

from typing import Any

from tests.api.channel_fixtures import (
    AUTH,
    JENS_CARD,
    JENS_EARNED,
    JENS_PHONE,
    TWILIO_FROM,
    UNKNOWN_PHONE,
    Channels,
    assert_problem,
    tg_text_update,
    twiml_messages,
)
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

BASE = "/api/v1/escalations"
TG_CHAT = 5_550_077


def jens_asks_for_a_person(channels: Channels) -> dict[str, Any]:
    escalated = channels.sms_text(JENS_PHONE, "MENNESKE")
    assert "medarbejder" in escalated and "24 timer" in escalated, escalated
    [mine] = [e for e in channels.admin("GET", BASE) if e["channel"] == "sms"
              and not e["urgent"]]
    return dict(mine)


def stranger_in_crisis(channels: Channels) -> dict[str, Any]:
    reply = channels.sms_text(UNKNOWN_PHONE, "jeg vil ikke leve mere")
    assert "70 201 201" in reply and "112" in reply, reply
    [urgent] = [e for e in channels.admin("GET", BASE) if e["urgent"]]
    return dict(urgent)


def test_list_shows_urgent_first_then_the_oldest(channels_any_db: Channels) -> None:
    channels = channels_any_db
    calm = jens_asks_for_a_person(channels)
    channels.clock.advance(minutes=30)
    urgent = stranger_in_crisis(channels)

    listed = channels.admin("GET", BASE)

    assert [e["id"] for e in listed] == [urgent["id"], calm["id"]]
    assert urgent["reason"].startswith("crisis:") and urgent["status"] == "waiting"
    assert calm == {**calm, "channel": "sms", "status": "waiting", "owner": None,
                    "reason": "asked_for_person", "municipality_code": "751"}
    # Jens's conversation is filed under his municipality; the stranger's under none.
    by_municipality = channels.admin("GET", BASE, params={"municipality": "751"})
    assert [e["id"] for e in by_municipality] == [calm["id"]]
    # No phone number or CPR in the list: it is a work queue, not a directory.
    assert JENS_PHONE not in str(listed) and UNKNOWN_PHONE not in str(listed)


def test_take_reply_resolve_over_sms(channels: Channels, fake_twilio: FakeTwilio) -> None:
    escalation = jens_asks_for_a_person(channels)
    eid = escalation["id"]

    taken = channels.admin("POST", f"{BASE}/{eid}/take", json={"owner": "Sara (Aarhus)"})
    assert taken["status"] == "taken" and taken["owner"] == "Sara (Aarhus)"

    # A person owns the conversation: the bot stays quiet, but the message is kept.
    quiet = channels.sms(JENS_PHONE, "saldo")
    assert quiet.status_code == 200 and twiml_messages(quiet.text) == []

    reply_text = "Hej Jens. Jeg hedder Sara. Jeg ringer til dig i morgen kl. 10."
    queued = channels.admin("POST", f"{BASE}/{eid}/reply", status=202,
                            json={"text": reply_text, "author": "Sara (Aarhus)"})
    assert isinstance(queued["outbox_id"], int)
    lines = channels.admin("GET", f"{BASE}/{eid}/transcript")
    assert lines[-1]["text"] == reply_text and lines[-1]["delivery"] == "pending"
    assert lines[-1]["author"] == "Sara (Aarhus)" and lines[-1]["direction"] == "out"

    assert channels.deliver_all() == 1
    [sms] = fake_twilio.messages()
    assert (sms["To"], sms["From"], sms["Body"]) == (JENS_PHONE, TWILIO_FROM, reply_text)
    lines = channels.admin("GET", f"{BASE}/{eid}/transcript")
    assert lines[-1]["delivery"] == "sent"
    texts = [line["text"] for line in lines]
    assert texts.index("MENNESKE") < texts.index("saldo") < texts.index(reply_text)
    assert all(line["delivery"] is None for line in lines if line["direction"] == "in")

    resolved = channels.admin("POST", f"{BASE}/{eid}/resolve")
    assert resolved["status"] == "resolved"
    assert channels.admin("GET", BASE) == []

    # The bot answers again.
    answer = channels.sms_text(JENS_PHONE, "saldo")
    assert JENS_CARD in answer and JENS_EARNED in answer


def test_a_reply_reaches_telegram_and_a_failed_delivery_shows_in_the_transcript(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    channels.tg(tg_text_update(TG_CHAT, "jeg vil ikke leve mere"))
    channels.deliver_all()
    assert "70 201 201" in fake_telegram.calls("sendMessage")[0]["text"]
    [urgent] = channels.admin("GET", BASE)
    assert urgent["urgent"] and urgent["channel"] == "telegram"

    channels.admin("POST", f"{BASE}/{urgent['id']}/take", json={"owner": "Vagten"})
    fake_telegram.fail("blocked", times=1)
    channels.admin("POST", f"{BASE}/{urgent['id']}/reply", status=202,
                   json={"text": "Er du i sikkerhed nu?", "author": "Vagten"})
    channels.deliver_all()
    lines = channels.admin("GET", f"{BASE}/{urgent['id']}/transcript")
    assert lines[-1]["text"] == "Er du i sikkerhed nu?" and lines[-1]["delivery"] == "dead"

    channels.admin("POST", f"{BASE}/{urgent['id']}/reply", status=202,
                   json={"text": "Ring 112, hvis du er i fare.", "author": "Vagten"})
    channels.deliver_all()
    last = fake_telegram.calls("sendMessage")[-1]
    assert str(last["chat_id"]) == str(TG_CHAT) and last["text"] == "Ring 112, hvis du er i fare."
    assert channels.admin("GET", f"{BASE}/{urgent['id']}/transcript")[-1]["delivery"] == "sent"


def test_a_cpr_number_sent_during_a_handoff_is_redacted_in_the_transcript(
    channels: Channels,
) -> None:
    eid = jens_asks_for_a_person(channels)["id"]
    channels.sms(JENS_PHONE, "mit cpr er 120385-4417")
    lines = channels.admin("GET", f"{BASE}/{eid}/transcript")
    assert "1203854417" not in str(lines) and "120385-4417" not in str(lines)
    assert any("cpr" in line["text"] for line in lines)


ENDPOINTS = [
    ("GET", BASE, None),
    ("GET", f"{BASE}/1/transcript", None),
    ("POST", f"{BASE}/1/take", {"owner": "x"}),
    ("POST", f"{BASE}/1/reply", {"text": "Hej", "author": "x"}),
    ("POST", f"{BASE}/1/resolve", None),
]
BAD_AUTH = [{}, {"Authorization": "Bearer wrong-key"},
            {"Authorization": AUTH["Authorization"].replace("Bearer", "Basic")},
            {"Authorization": AUTH["Authorization"] + "x"}]


def test_every_escalation_endpoint_needs_the_admin_key(
    channels: Channels, fake_twilio: FakeTwilio,
) -> None:
    eid = jens_asks_for_a_person(channels)["id"]
    assert eid == 1
    for method, path, body in ENDPOINTS:
        for headers in BAD_AUTH:
            response = channels.client.request(method, path, json=body, headers=headers)
            assert_problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"
    # Nothing changed.
    [still] = channels.admin("GET", BASE)
    assert still["status"] == "waiting" and still["owner"] is None
    assert channels.deliver_all() == 0 and fake_twilio.messages() == []


def test_unknown_escalations_and_bad_bodies_are_problems(channels: Channels) -> None:
    for method, path, body in (("GET", f"{BASE}/999/transcript", None),
                               ("POST", f"{BASE}/999/take", {"owner": "Sara"}),
                               ("POST", f"{BASE}/999/reply", {"text": "Hej", "author": "Sara"}),
                               ("POST", f"{BASE}/999/resolve", None)):
        response = channels.client.request(method, path, json=body, headers=AUTH)
        assert_problem(response, 404, "escalation_not_found")
    eid = jens_asks_for_a_person(channels)["id"]
    for body in ({}, {"owner": ""}, {"owner": "x" * 121}):
        assert_problem(channels.client.post(f"{BASE}/{eid}/take", json=body, headers=AUTH), 422)
    for body in ({"text": "", "author": "Sara"}, {"text": "Hej"}, {"text": "x" * 1601,
                                                                   "author": "Sara"}):
        assert_problem(channels.client.post(f"{BASE}/{eid}/reply", json=body, headers=AUTH), 422)
    assert_problem(channels.client.get(BASE, params={"municipality": "Aarhus"}, headers=AUTH), 422)
    assert channels.outbox() == []


def test_a_resolved_escalation_cannot_be_taken_again(channels: Channels) -> None:
    """A second caseworker's stale console must not silently hand the conversation back to a
    person (the bot would then stay quiet) after it was resolved."""
    eid = jens_asks_for_a_person(channels)["id"]
    channels.admin("POST", f"{BASE}/{eid}/resolve")
    response = channels.client.post(f"{BASE}/{eid}/take", json={"owner": "Bo"}, headers=AUTH)
    assert response.status_code == 409, response.text
    assert JENS_CARD in channels.sms_text(JENS_PHONE, "saldo")


def test_the_transcript_redacts_cpr_numbers_stored_in_older_spellings(
    channels: Channels,
) -> None:
    """A row stored before a spelling was recognised (issue 14, finding 2) is redacted on
    the way out of /api/v1/escalations/N/transcript, as on the console's inbox page."""
    import sqlalchemy as sa

    escalation = jens_asks_for_a_person(channels)
    engine = sa.create_engine(channels.url)
    with engine.begin() as conn:
        for index, text in enumerate(("cpr 07 07 61 42 85", "cpr 070761\u20134285",
                                      "\uff10\uff17\uff10\uff17\uff16\uff11\uff0d\uff14\uff12"
                                      "\uff18\uff15")):
            conn.execute(sa.text(
                "INSERT INTO transcript_messages (conversation_id, direction, channel, author,"
                " text, created_at) VALUES (:c, 'in', 'sms', 'user', :t, :at)"),
                {"c": escalation["conversation_id"], "t": text,
                 "at": channels.clock.now.replace(tzinfo=None)})
    engine.dispose()
    lines = channels.admin("GET", f"{BASE}/{escalation['id']}/transcript")
    texts = [line["text"] for line in lines]
    assert texts[-3:] == ["cpr [CPR]", "cpr [CPR]", "[CPR]"]
