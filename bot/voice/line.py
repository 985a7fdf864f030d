"""The phone line: a call's turns through the same dialogue as SMS, answered for the ear.

A call lives in the caller's SMS conversation (`InboundMessage.conversation_channel`), so a
caller who also texts is one person with one state. The call's own facts (which call, its
misses, whether the caller proved the number, what may be sent by SMS) are kept under
`state["call"]` and go when the call ends. Each turn is stored first and de-duplicated by
CallSid and step, like an SMS by its MessageSid; a retry gets the first answer again.

What the line adds to the dialogue: the keypad menu after two misses and a person after a
third; the last two digits of the Frikort-ID before a caller hears their own figures, and a
LINK code on the keypad; the municipality's number within its opening hours, else a callback
request in the caseworkers' inbox (first in line after crisis words); an SMS copy on request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.context import FLOW_KEYS, Step
from bot.engine import Dialogue
from bot.flows import balance, handoff, link, routing
from bot.messages import Channel, InboundMessage
from bot.observe import safely
from bot.texts import text
from bot.voice.speech import MAX_TURN_SECONDS, Spoken, compose, fit, seconds
from conversations.linking import LinkOutcome
from conversations.turn import Turn
from danish.wording import gsm7_safe, tidy
from db.engine import is_database_unavailable
from nlu import FALLBACK_INTENT, ParseResult

log = logging.getLogger(__name__)

LOW_CONFIDENCE = 0.3
"""Speech recognised with less confidence than this counts as not understood (crisis words
in it are still heard)."""
ID_TRIES = 2
"""Tries at the Frikort-ID's last two digits within one call."""
LINK_DIGITS = 9
"""A card number (5) and the grant letter's code (4), keyed in one go."""
SMS_OUTCOMES = ("faq_", "employer_faq_", "balance", "source", "card_check", "jobs")
"""Answers worth having in writing: the caller is offered them by SMS."""
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
HIDDEN_NUMBERS = frozenset({"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"})
"""What Twilio sends as From when the caller's number is withheld (anonymous, restricted,
blocked, unavailable, unknown): never anybody's conversation."""
_DIGIT_WORDS = {"nul": "0", "en": "1", "et": "1", "to": "2", "tre": "3", "fire": "4", "fem": "5",
                "seks": "6", "syv": "7", "otte": "8", "ni": "9"}
_YES = re.compile(r"^(ja|jo|ja tak|ja gerne|jep|okay|ok)\b")
_NO = re.compile(r"^(nej|nej tak|ellers tak)\b")
_MARK = "[opkald] "
"""Starts the last stored reply of a call turn: what the call did next, so a retry gets the
same TwiML."""
Then = Literal["listen", "dial", "hang_up"]


@dataclass(frozen=True)
class CallEvent:
    """One request about a call, in plain values (the api reads them from Twilio's form)."""

    call_sid: str
    caller: str
    """The caller's number as Twilio sends it (From); a withheld number is allowed."""
    kind: Literal["start", "gather", "dial"]
    step: int = 0
    """0 for the call's start; then the number in the action URL the previous answer gave."""
    speech: str = ""
    confidence: float | None = None
    digits: str = ""
    dial_status: str = ""
    """How a transfer ended (DialCallStatus): completed, busy, no-answer, failed, canceled."""
    received_at: dt.datetime | None = None
    joins: Channel | None = None
    """The demo's calls join its web chat instead of an SMS conversation."""


@dataclass(frozen=True)
class CallReply:
    say: tuple[Spoken, ...]
    then: Then = "listen"
    dial: str | None = None
    """The number a transfer rings (then == "dial")."""
    digits: int | None = None
    """Listen for this many keypad digits (the ID check, a LINK code); else speech or keys."""
    step: int = 1
    """The step the next request about this call carries (its action URL)."""


def caller_address(caller: str, call_sid: str) -> str:
    """The caller's number, whose SMS conversation the call joins; a withheld number gets a
    conversation of its own for this call only."""
    number = caller.strip()
    if _E164.match(number) and number not in HIDDEN_NUMBERS:
        return number
    return f"skjult-{call_sid}"[:64]


def _address(caller: str, call_sid: str, joins: Channel | None) -> str:
    """The demo's calls come from the demo chat's own address; real ones from a number."""
    return caller if joins == "web" else caller_address(caller, call_sid)


def reachable(address: str) -> bool:
    """Whether we can send an SMS to, or ring back, this caller."""
    return address.startswith("+")


def heard(event: CallEvent) -> str:
    """What the transcript keeps of the caller's turn."""
    if event.kind == "start":
        return "[ringer op]"
    if event.kind == "dial":
        return f"[omstilling: {event.dial_status or 'slut'}]"
    if event.digits:
        return f"[tastede {event.digits}]"
    return event.speech.strip() or "[sagde ingenting]"


def digits_in(event: CallEvent) -> str:
    """Keyed digits, or digits said aloud ("fire otte", "48")."""
    if event.digits:
        return "".join(ch for ch in event.digits if ch.isdigit())
    words = re.findall(r"\w+", event.speech.lower())
    return "".join(_DIGIT_WORDS.get(w, w if w.isdigit() else "") for w in words)


def encode(reply: CallReply, texts: tuple[str, ...]) -> tuple[str, ...]:
    """The stored replies of a call turn: what was said, then what the call did next."""
    action = {"then": reply.then, "dial": reply.dial, "digits": reply.digits,
              "step": reply.step, "slow": [i for i, s in enumerate(reply.say) if s.slow]}
    return (*texts, _MARK + json.dumps(action))


def decode(stored: tuple[str, ...], step: int) -> CallReply:
    """A call turn as it was first answered (a retry); anonymised ones just listen on."""
    if stored and stored[-1].startswith(_MARK):
        action = json.loads(stored[-1][len(_MARK):])
        slow = set(action.get("slow") or ())
        said = tuple(Spoken(t, i in slow) for i, t in enumerate(stored[:-1]))
        return CallReply(said, action["then"], action.get("dial"), action.get("digits"),
                         int(action["step"]))
    return CallReply(tuple(Spoken(t) for t in stored), "listen", step=step + 1)


def _empty_parse(said: str) -> ParseResult:
    return {"text": said, "intent": {"name": FALLBACK_INTENT, "confidence": 0.0},
            "intent_ranking": [], "entities": []}


class _Answer:
    """What one call turn will say and do; the written texts it may send by SMS."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.then: Then = "listen"
        self.dial: str | None = None
        self.digits: int | None = None
        self.prompt: str | None = None
        """Said after the answer, always (the keypad menu, the SMS offer, a question)."""

    def line(self, key: str, **values: Any) -> None:
        self.texts.append(text(f"voice.{key}", **values))


class PhoneLine:
    def __init__(self, dialogue: Dialogue) -> None:
        self._dialogue = dialogue

    # Events ---------------------------------------------------------------------------

    def answer(self, event: CallEvent) -> CallReply:
        """One request about a call: stored first, answered once, a retry answered the same."""
        address = _address(event.caller, event.call_sid, event.joins)
        inbound = InboundMessage(
            channel="voice", sender=address, text=heard(event),
            provider_message_id=f"{event.call_sid}:{event.step}", received_at=event.received_at,
            joins=event.joins, proven=False)
        stored = self._dialogue.store(inbound)
        if stored.duplicate and stored.replies is not None:
            return decode(stored.replies, event.step)
        listens = event.kind == "gather" and bool(event.speech.strip()) and not event.digits
        parse = (self._dialogue.parse(replace(inbound, text=event.speech)) if listens
                 else _empty_parse(inbound.text))
        conversations = self._dialogue.conversations
        try:
            reply: CallReply = conversations.turn(
                inbound.conversation_channel, address,
                lambda turn: self._turn(turn, inbound, event, parse, stored.id), via="voice",
                inbound_id=stored.id)
        except Exception as error:
            if is_database_unavailable(error):
                raise  # the webhook answers 503 and Twilio tries again
            log.error("call turn failed for message %s: %s", stored.id, type(error).__name__,
                      exc_info=error)
            safely(self._dialogue.observer.failed, inbound, stored.conversation_id, error)
            reply = self._failed(inbound, stored.id, event)
        return reply

    def _failed(self, inbound: InboundMessage, inbound_id: int, event: CallEvent) -> CallReply:
        """A turn that raised: a short, safe sentence, and the turn marked answered so a retry
        does not replay the crash (the failed turn itself was rolled back)."""
        today = (event.received_at or dt.datetime.now(dt.UTC)).date()
        reply = CallReply(compose([text("voice.turn_failed")], today).sentences,
                          step=event.step + 1)

        def record(turn: Turn) -> CallReply:
            already = turn.inbound_replies(inbound_id)
            if already is not None:
                return decode(already, event.step)
            turn.record_reply(" ".join(s.text for s in reply.say))
            turn.finish_inbound(inbound_id, "error", encode(reply, tuple(s.text for s in reply.say)))
            return reply
        try:
            result: CallReply = self._dialogue.conversations.turn(
                inbound.conversation_channel, inbound.sender, record, via="voice",
                inbound_id=inbound_id)
            return result
        except Exception as second:
            if is_database_unavailable(second):
                raise
            log.error("could not record the safe reply to call message %s: %s", inbound_id,
                      type(second).__name__, exc_info=second)
            return reply

    def hang_up(self, call_sid: str, caller: str, *, joins: Channel | None = None) -> bool:
        """The call ended (Twilio's status callback, or the demo's button): whatever the call
        left half-done is ended, so nothing stays reserved for a JA nobody will say. True when
        there was a call to end (a repeated callback finds none)."""
        address = _address(caller, call_sid, joins)
        probe = InboundMessage(channel="voice", sender=address, text="",
                               provider_message_id=f"{call_sid}:end", joins=joins)

        def end(turn: Turn) -> bool:
            call = turn.state.get("call")
            if not call or call.get("sid") != call_sid:
                return False
            self._end_call(self._dialogue.step(turn, probe, _empty_parse("")))
            turn.save_state()
            return True
        return bool(self._dialogue.conversations.turn(
            probe.conversation_channel, address, end, via="voice"))

    # One turn -------------------------------------------------------------------------

    def _turn(self, turn: Turn, inbound: InboundMessage, event: CallEvent,
              parse: ParseResult, inbound_id: int) -> CallReply:
        already = turn.inbound_replies(inbound_id)
        if already is not None:  # a concurrent retry answered it while we waited
            return decode(already, event.step)
        call = self._call(turn, event)
        step = self._dialogue.step(turn, replace(inbound, proven=bool(call.get("proven"))),
                                   parse)
        answer = _Answer()
        intent = self._decide(step, call, event, answer)
        reply = self._finish(step, call, event, answer)
        turn.save_state()
        said = " ".join(s.text for s in reply.say)
        turn.answer(inbound_id, intent, ((said, ()),) if said else (),
                    stored=encode(reply, tuple(s.text for s in reply.say)))
        safely(self._dialogue.observer.decided, inbound, step.outcome or "call")
        return reply

    def _call(self, turn: Turn, event: CallEvent) -> dict[str, Any]:
        """This call's state; a new call ends an earlier one whose hang-up never came."""
        call: dict[str, Any] | None = turn.state.get("call")
        if call is not None and call.get("sid") != event.call_sid:
            probe = InboundMessage(channel="voice", sender=turn.address, text="",
                                   provider_message_id=f"{call.get('sid')}:end")
            self._end_call(self._dialogue.step(turn, probe, _empty_parse("")))
            call = None
        if call is None:
            call = {"sid": event.call_sid, "misses": 0, "proven": False,
                    "flow_at_start": _flow_snapshot(turn.state)}
            turn.state["call"] = call
        call["step"] = event.step
        return call

    def _decide(self, step: Step, call: dict[str, Any], event: CallEvent,
                answer: _Answer) -> str:
        """Fills `answer`; returns what the transcript records as the turn's intent."""
        asking = call.pop("asking", None)
        if event.kind == "start":
            if step.first_name:
                answer.line("welcome_named", name=step.first_name)
            else:
                answer.line("welcome")
            step.decide("greet")
            return "call_start"
        if event.kind == "dial":
            self._transfer_ended(step, call, event, answer)
            return "call_transfer"
        found = self._dialogue.crisis_in(event.speech) if event.speech.strip() else None
        if found is not None:
            handoff.crisis(step, found)
            call["crisis"] = True
            self._after_crisis(step, call, answer)
            return step.recorded_intent
        digits = digits_in(event)
        if asking == "card_digits":
            self._card_digits(step, call, digits, answer)
            return "keypad"
        if asking == "link_code":
            self._link_code(step, call, digits, answer)
            return "keypad"
        if asking == "crisis_offer" and self._wants_person(event, digits):
            self._to_person(step, call, answer, reason="asked_for_person")
            return "keypad" if event.digits else step.recorded_intent
        if event.digits:
            self._keypad(step, call, event.digits, answer)
            return "keypad"
        if not event.speech.strip() or (event.confidence is not None
                                        and event.confidence < LOW_CONFIDENCE):
            self._miss(step, call, answer)
            return "silence" if not event.speech.strip() else "low_confidence"
        routing.route(step)
        self._after_dialogue(step, call, answer)
        return step.recorded_intent

    @staticmethod
    def _wants_person(event: CallEvent, digits: str) -> bool:
        return digits == "3" or _YES.match(event.speech.strip().lower()) is not None

    # What the dialogue said --------------------------------------------------------------

    def _after_dialogue(self, step: Step, call: dict[str, Any], answer: _Answer) -> None:
        if step.to_person:
            self._to_person(step, call, answer, reason=step.to_person)
            return
        if step.outcome == "fallback":
            self._miss(step, call, answer)
            return
        call["misses"] = 0
        if step.needs_proof:
            self._ask_for_proof(step, call, answer)
            return
        answer.texts += [r.text for r in step.replies]
        if step.outcome == "goodbye":
            answer.line("goodbye_call")
            answer.then = "hang_up"
            return
        if step.outcome == "balance" and not step.identity.is_card_holder:
            answer.line("link_ask")  # "Jeg kan ikke se, hvem du er": the letter's code, then
            call["asking"], call["pending"] = "link_code", "balance"
            answer.digits = LINK_DIGITS
            return
        self._offer_sms(step, call, answer)

    def _after_crisis(self, step: Step, call: dict[str, Any], answer: _Answer) -> None:
        """112 and Livslinien first, read slowly; then a person now, or a callback soon."""
        answer.texts += [r.text for r in step.replies]
        office = step.config.offices.for_municipality(step.turn.municipality)
        if office is not None and office.open_at(step.turn.now):
            answer.prompt = text("voice.crisis_offer")
            call["asking"] = "crisis_offer"
            return
        if reachable(step.turn.address):
            step.turn.request_callback(urgent=True)
            answer.line("crisis_callback")

    def _offer_sms(self, step: Step, call: dict[str, Any], answer: _Answer) -> None:
        """After an answer worth keeping, the offer of an SMS copy; else, unless a question
        waits (a flow's, or the reply's own), what else the caller wants."""
        outcome = step.outcome or ""
        call.pop("sms", None)
        if outcome.startswith(SMS_OUTCOMES) and step.replies:
            call["sms"] = _written(step)
            answer.prompt = text("voice.sms_offer")
        elif not step.flow and not (answer.texts and answer.texts[-1].rstrip().endswith("?")):
            answer.prompt = text("voice.next")

    # The keypad -------------------------------------------------------------------------

    def _keypad(self, step: Step, call: dict[str, Any], digits: str, answer: _Answer) -> None:
        sms = call.pop("sms", None)
        if digits == "1" and sms:
            self._send_copy(step, sms, answer)
        elif digits == "1":
            call["misses"] = 0
            balance.show(step)
            self._after_dialogue(step, call, answer)
        elif digits == "2":
            call["misses"] = 0
            answer.line("ask_question")
        elif digits == "3":
            self._to_person(step, call, answer, reason="asked_for_person")
        elif digits == "9":
            answer.texts += call.get("last") or [text("voice.keypad_menu")]
            call["asking"] = "menu"
        else:
            self._miss(step, call, answer)

    def _send_copy(self, step: Step, texts: list[str], answer: _Answer) -> None:
        if not reachable(step.turn.address):
            answer.line("sms_no_number")
        elif step.turn.opted_out:
            answer.line("sms_opted_out")
        else:
            for body in texts:
                step.turn.send_copy(body)
            answer.line("sms_sent")
        step.decide("sms_copy")
        answer.prompt = text("voice.next")

    def _miss(self, step: Step, call: dict[str, Any], answer: _Answer) -> None:
        """Not understood: once, ask again; twice, the keypad menu; three times, a person."""
        step.decide("fallback")
        misses = int(call.get("misses", 0)) + 1
        call["misses"] = misses
        if misses == 1:
            answer.line("miss_first")
        elif misses == 2:
            answer.line("miss_menu")
            answer.prompt = text("voice.keypad_menu")
            call["asking"] = "menu"
        else:
            call["misses"] = 0
            self._to_person(step, call, answer, reason="not_understood")

    # Proving the number -------------------------------------------------------------------

    def _ask_for_proof(self, step: Step, call: dict[str, Any], answer: _Answer) -> None:
        call["asking"], call["pending"] = "card_digits", "balance"
        call.setdefault("id_tries", 0)
        answer.line("id_ask")
        answer.digits = 2

    def _card_digits(self, step: Step, call: dict[str, Any], digits: str,
                     answer: _Answer) -> None:
        number = step.identity.card_number
        if number is None:
            self._miss(step, call, answer)
            return
        outcome = step.turn.check_card_ending(number, digits[-2:] if len(digits) >= 2 else "")
        if outcome is LinkOutcome.LINKED:
            call["proven"] = True
            call.pop("id_tries", None)
            self._pending(step, call, answer)
            return
        call["id_tries"] = int(call.get("id_tries", 0)) + 1
        call.pop("pending", None)
        step.decide("balance")
        if outcome is LinkOutcome.LOCKED:
            answer.line("id_locked")
        elif call["id_tries"] >= ID_TRIES:
            answer.line("id_failed")
        else:
            answer.line("id_wrong")
            self._ask_for_proof(step, call, answer)
            return
        answer.prompt = text("voice.next")

    def _link_code(self, step: Step, call: dict[str, Any], digits: str,
                   answer: _Answer) -> None:
        if len(digits) != LINK_DIGITS:
            call.pop("pending", None)
            step.say("link_usage")
            answer.texts += [r.text for r in step.replies]
            step.decide("link")
            answer.prompt = text("voice.next")
            return
        link.with_code(step, (digits[:5], digits[5:]))
        step.decide("link")
        answer.texts += [r.text for r in step.replies]
        step.replies.clear()
        identity = step.turn.identity()
        if identity.card_number == digits[:5]:
            call["proven"] = True  # the letter's code proves more than two digits would
            step.identity = identity
            self._pending(step, call, answer)
            return
        call.pop("pending", None)
        answer.prompt = text("voice.next")

    def _pending(self, step: Step, call: dict[str, Any], answer: _Answer) -> None:
        """What the caller asked for before proving the number: now with `proven`."""
        wanted = call.pop("pending", None)
        step.inbound = replace(step.inbound, proven=True)
        if wanted == "balance":
            balance.show(step)
        answer.texts += [r.text for r in step.replies]
        self._offer_sms(step, call, answer)

    # A person -------------------------------------------------------------------------

    def _to_person(self, step: Step, call: dict[str, Any], answer: _Answer, *,
                   reason: str) -> None:
        """The municipality's number within its opening hours; otherwise a callback request
        in the inbox (urgent if crisis words were heard in this call)."""
        step.decide("handoff")
        call.pop("asking", None)
        office = step.config.offices.for_municipality(step.turn.municipality)
        if office is not None and office.open_at(step.turn.now):
            answer.line("put_through", office=office.name)
            answer.then, answer.dial = "dial", office.phone
            call["transfer"] = reason
            return
        self._callback(step, call, answer, closed=office is not None)

    def _callback(self, step: Step, call: dict[str, Any], answer: _Answer, *,
                  closed: bool) -> None:
        if not reachable(step.turn.address):
            answer.line("callback_hidden")
        else:
            step.turn.request_callback(urgent=bool(call.get("crisis")))
            if closed:
                answer.line("closed")
            answer.line("callback", response_hours=step.config.handoff_response_hours)
        answer.line("goodbye_call")
        answer.then = "hang_up"

    def _transfer_ended(self, step: Step, call: dict[str, Any], event: CallEvent,
                        answer: _Answer) -> None:
        step.decide("handoff")
        if event.dial_status == "completed":
            answer.line("goodbye_call")
            answer.then = "hang_up"
            return
        answer.line("no_answer")
        self._callback(step, call, answer, closed=False)

    # The end ----------------------------------------------------------------------------

    def _finish(self, step: Step, call: dict[str, Any], event: CallEvent,
                answer: _Answer) -> CallReply:
        """The turn for the ear: within MAX_TURN_SECONDS, with its prompt last; what did not
        fit (or a link) is offered by SMS."""
        today = step.turn.today
        speech = compose(answer.texts, today)
        prompt = compose([answer.prompt], today).sentences if answer.prompt else ()
        sms_prompt = compose([text("voice.sms_offer")], today).sentences
        budget = MAX_TURN_SECONDS - seconds(prompt)
        kept, left_out = fit(speech.sentences, budget)
        if (left_out or speech.had_link) and step.replies and answer.then == "listen" \
                and not call.get("sms") and step.outcome != "crisis":
            call["sms"] = _written(step)
            prompt = sms_prompt
            kept, _ = fit(speech.sentences, MAX_TURN_SECONDS - seconds(prompt))
        said = (*kept, *prompt)
        if answer.then == "listen" and answer.digits is None:
            call["last"] = [s.text for s in said]
        return CallReply(tuple(said), answer.then, answer.dial, answer.digits,
                         step=event.step + 1)

    def _end_call(self, step: Step) -> None:
        """A flow the call started or changed is ended (a read-back's reservation voided);
        one the call never touched (begun by SMS) is left for SMS."""
        call = step.state.get("call") or {}
        if step.flow and _flow_snapshot(step.state) != call.get("flow_at_start"):
            step.end_flow()
        step.state.pop("call", None)


def _written(step: Step) -> list[str]:
    """The replies as an SMS would have had them (GSM-7, tidy)."""
    return [tidy(gsm7_safe(r.text)) for r in step.replies]


def _flow_snapshot(state: dict[str, Any]) -> str:
    return json.dumps({k: state.get(k) for k in FLOW_KEYS}, sort_keys=True, default=str)
