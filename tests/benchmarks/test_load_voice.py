"""The load harness's phone calls without a server: the wire signs a call's requests as Twilio
does (the full URL with ``?step=N``), its TwiML reader understands what the server's own
renderer writes, and traffic.yml puts about 5 % of the messages on calls by callers only."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from api.channels.twilio_voice import twiml_call as render_twiml
from benchmarks.load.seed import plan_population
from benchmarks.load.traffic import Focus, TrafficSource, load_mix
from benchmarks.load.wire import VOICE_PATH, ProviderSecrets, Wire, twiml_call
from bot.voice.line import CallReply
from bot.voice.speech import Spoken

BASE = "https://load.example.dk"


def _form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def test_a_gather_answer_is_signed_over_the_full_url_with_its_step() -> None:
    provider = ProviderSecrets()
    wire = Wire(BASE + "/", provider)
    sid = wire.call_sid()
    path, body, headers = wire.voice("+4526000001", sid, f"{VOICE_PATH}/gather?step=2",
                                     {"SpeechResult": "saldo", "Confidence": "0.91"})
    form = _form(body)
    validator = RequestValidator(provider.twilio_token)
    signature = headers["X-Twilio-Signature"]

    assert path == f"{VOICE_PATH}/gather?step=2"
    assert validator.validate(BASE + path, form, signature)
    assert not validator.validate(BASE + f"{VOICE_PATH}/gather?step=3", form, signature)
    assert not validator.validate(BASE + f"{VOICE_PATH}/gather", form, signature)
    assert form["CallSid"] == sid and sid.startswith("CA") and len(sid) == 34
    assert (form["From"], form["To"]) == ("+4526000001", provider.twilio_number)
    assert (form["AccountSid"], form["Direction"], form["ApiVersion"]) == (
        provider.twilio_sid, "inbound", "2010-04-01")
    assert (form["CallStatus"], form["SpeechResult"]) == ("in-progress", "saldo")
    assert wire.call_sid() != sid


def test_a_call_starts_ringing_and_ends_with_the_status_it_is_given() -> None:
    wire = Wire(BASE, ProviderSecrets())
    _, start, _ = wire.voice("+4526000001", "CA1", VOICE_PATH)
    _, end, _ = wire.voice("+4526000001", "CA1", VOICE_PATH + "/status",
                           {"CallStatus": "completed"})
    assert _form(start)["CallStatus"] == "ringing" and "SpeechResult" not in _form(start)
    assert _form(end)["CallStatus"] == "completed"


def test_the_reader_follows_what_the_server_renders() -> None:
    wire = Wire(BASE, ProviderSecrets())
    listening = CallReply((Spoken("Hej Borger."), Spoken("Ring 112.", slow=True)), step=4)
    answer = twiml_call(render_twiml(listening, base_url=BASE, voice="Polly.Naja").encode())
    assert answer is not None
    assert answer.said == ("Hej Borger.", "Ring 112.") and not answer.hangup
    assert answer.action is not None
    assert wire.local_path(answer.action) == f"{VOICE_PATH}/gather?step=4"

    goodbye = CallReply((Spoken("Farvel."),), then="hang_up", step=5)
    ended = twiml_call(render_twiml(goodbye, base_url=BASE, voice="Polly.Naja").encode())
    assert ended is not None and ended.hangup and ended.action is None
    assert ended.text == "Farvel."
    assert twiml_call(b"not xml") is None and twiml_call(b"<Other/>") is None
    assert wire.local_path("https://elsewhere.example/webhooks/twilio/voice/gather") is None


def test_about_five_percent_of_messages_are_calls_by_callers_only() -> None:
    mix = load_mix()
    population = plan_population(2000)
    source = TrafficSource(population, mix)
    channels: Counter[str] = Counter()
    kinds_by_channel: dict[str, set[str]] = {}
    for _ in range(40_000):
        message = source.next_message()
        assert message is not None
        channels[message.channel] += 1
        kind = message.conversation.kind
        kinds_by_channel.setdefault(message.channel, set()).add(kind.channel)
        if message.channel == "voice" and message.conversation.position == 0:
            assert message.turn.ring
        source.advance(message.conversation)

    assert mix.voice == 5
    assert 4.0 < 100 * channels["voice"] / sum(channels.values()) < 6.5, channels
    assert kinds_by_channel["voice"] == {"voice"}
    assert kinds_by_channel["sms"] == kinds_by_channel["telegram"] == {"text"}


def test_a_call_must_ring_first_and_a_voice_share_needs_calls() -> None:
    base = ("categories: {keyword: 100}\nconversations:\n"
            "  - {name: k, category: keyword, who: unknown, weight: 1,"
            " turns: [{say: hej, expect: [Hej]}]}\n")
    no_ring = ("  - {name: c, category: keyword, who: holder, channel: voice, weight: 1,"
               " turns: [{say: saldo}]}\n")
    with pytest.raises(ValueError, match="rings first"):
        load_mix("voice: 5\n" + base + no_ring)
    with pytest.raises(ValueError, match="voice share"):
        load_mix("voice: 5\n" + base)
    assert load_mix(base).voice == 0


def test_a_focus_sends_one_channel_and_the_same_kinds_until_it_is_lifted() -> None:
    mix = load_mix()
    source = TrafficSource(plan_population(400), mix)
    while True:  # a written conversation with a turn ready to go, left waiting
        first = source.next_message()
        assert first is not None
        source.advance(first.conversation)
        if first.channel != "voice" and len(first.conversation.turns) > 1:
            break
    for channel in ("voice", "sms"):
        source.focus(Focus(channel, frozenset({"rule_question", "balance"})))
        seen: Counter[tuple[str, str]] = Counter()
        for _ in range(300):
            message = source.next_message()
            assert message is not None
            seen[message.channel, message.category] += 1
            source.advance(message.conversation)
        assert {c for c, _ in seen} == {channel}, seen
        assert {k for _, k in seen} == {"rule_question", "balance"}, seen
    source.focus(None)
    waiting = source.next_message()
    assert waiting is not None and waiting.conversation is first.conversation
    channels: Counter[str] = Counter()
    for _ in range(3000):
        message = source.next_message()
        assert message is not None
        channels[message.channel] += 1
        source.advance(message.conversation)
    assert set(channels) == {"sms", "telegram", "voice"}
    with pytest.raises(ValueError, match="no conversation"):
        source.focus(Focus("voice", frozenset({"wage_report"})))


def test_every_button_press_in_the_mix_sends_a_button_the_server_offers() -> None:
    """A press is refused unless its data is one of the question's own buttons, exactly (the
    bot offers JA and NEJ); a lowercase "ja" would wait 60 s for a reply that never comes."""
    presses = {v.say for k in load_mix().kinds for turn in k.turns for v in turn if v.button}
    assert presses and presses <= {"JA", "NEJ"}, presses
