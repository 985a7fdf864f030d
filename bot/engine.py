"""The dialogue engine: one inbound message in, replies out, state and effects in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace

from bot import flows
from bot.config import BotConfig
from bot.context import FLOW_KEYS, Step
from bot.crisis import Crisis, CrisisScorer, detect
from bot.flows import routing
from bot.keywords import keyword_of
from bot.knowledge import KnowledgeBase, shipped_knowledge
from bot.language import looks_english
from bot.ledger_reads import LedgerReads
from bot.messages import InboundMessage, Reply
from bot.observe import DialogueObserver, safely
from bot.questions import last_question, questions_in
from bot.texts import text as bot_text
from conversations.records import Identity, StoredInbound
from conversations.service import Conversations
from conversations.turn import Turn
from danish.wording import gsm7_safe, tidy
from db.engine import is_database_unavailable
from nlu import Parser, ParseResult, join_spelled_card_numbers, redact_cpr

log = logging.getLogger(__name__)

_NOT_UNDERSTOOD = ("fallback", "out_of_scope", "menu")


def _today(inbound: InboundMessage) -> dt.date:
    """The date relative dates in the message are read from: the day it arrived."""
    return (inbound.received_at or dt.datetime.now(dt.UTC)).date()


class Dialogue:
    """Channel-agnostic: the api's webhooks and the demo chat all call `handle`."""

    def __init__(
        self,
        conversations: Conversations,
        parser: Parser,
        *,
        config: BotConfig | None = None,
        knowledge: KnowledgeBase | None = None,
        crisis: CrisisScorer | None = None,
    ) -> None:
        self._conversations = conversations
        self._parser = parser
        self._crisis = crisis
        """The crisis classifier, beside the phrase patterns (either one is enough)."""
        self._config = config or BotConfig()
        self._knowledge = knowledge or shipped_knowledge()
        self.observer = DialogueObserver()
        """Told about each message (the api counts them and logs the conversation id)."""

    def handle(self, inbound: InboundMessage, *, queue_replies: bool = False,
               deliver_here: bool = False) -> list[Reply]:
        """Stores the message first (nothing lost), then answers it under the sender's lock.

        A provider's retry of a message already answered gets the same replies and no effect.
        With `queue_replies` the replies also go to the outbox in the same transaction, for
        channels that cannot carry them in the webhook response (Telegram). With
        `deliver_here` the caller sends them itself right after: the replies written leased
        to it carry their `outbox_id`; the others are left to the outbox worker.
        """
        conversations = self._conversations
        stored = self.store(inbound)
        if stored.duplicate and stored.replies is not None:
            again = [Reply(text) for text in stored.replies]
            safely(self.observer.answered, inbound, again, queue_replies)
            return again
        over = self._over_rate_limit(inbound, stored)
        if over is not None:
            replies = conversations.turn(
                inbound.conversation_channel, inbound.sender,
                lambda turn: self._rate_limited(turn, inbound, stored.id, over, queue_replies),
                via=inbound.channel, inbound_id=stored.id)
            safely(self.observer.answered, inbound, replies, queue_replies)
            log.info("rate-limited message %s in conversation %s: replies=%d",
                     stored.id, stored.conversation_id, len(replies))
            return replies
        inbound = replace(inbound, text=join_spelled_card_numbers(inbound.text))
        clauses = self.clause_parses(inbound)
        parse = flows.faq.lead_question(self.parse(inbound), clauses)
        if not clauses and flows.faq.unsure_outside(parse):
            parse = flows.faq.asked_last(parse, self.tail_parse(inbound))
        outcome: list[str] = []
        try:
            replies = conversations.turn(
                inbound.conversation_channel, inbound.sender,
                lambda turn: self._answer(turn, inbound, parse, stored.id, queue_replies,
                                          outcome, clauses, deliver_here=deliver_here),
                via=inbound.channel, inbound_id=stored.id)
        except Exception as error:
            if is_database_unavailable(error):
                raise  # the webhook answers 503 and the provider tries again later
            replies = self._recover(inbound, stored.id, stored.conversation_id, error,
                                    queue_replies)
            outcome[:] = ["error"]
        safely(self.observer.answered, inbound, replies, queue_replies)
        if outcome:
            safely(self.observer.decided, inbound, outcome[-1])
        log.info("handled message %s in conversation %s: intent=%s outcome=%s replies=%d",
                 stored.id, stored.conversation_id, parse["intent"]["name"],
                 outcome[-1] if outcome else "-", len(replies))
        return replies

    @property
    def conversations(self) -> Conversations:
        return self._conversations

    @property
    def config(self) -> BotConfig:
        return self._config

    def store(self, inbound: InboundMessage) -> StoredInbound:
        """Commits the message (CPR redacted) before anything else; a retry finds the first."""
        limit = self._config.rate_limit_per_minute
        stored = self._conversations.store_inbound(
            inbound.conversation_channel, inbound.sender, inbound.provider_message_id,
            redact_cpr(inbound.text), count_recent=(60, limit + 2) if limit > 0 else None,
            message_channel=inbound.channel)
        safely(self.observer.stored, inbound, stored.conversation_id, stored.duplicate)
        return stored

    def parse(self, inbound: InboundMessage) -> ParseResult:
        """The NLU's reading, outside any transaction."""
        today = _today(inbound)
        parse = self._parser.parse(inbound.text, today)
        safely(self.observer.parsed, inbound, parse)
        return parse

    def clause_parses(self, inbound: InboundMessage) -> list[ParseResult]:
        """Each question of a message that asks several, read on its own (outside any
        transaction, like the whole message); empty for a message with one question."""
        if inbound.channel == "voice":
            return []  # a caller hears one answer at a time
        today = _today(inbound)
        return [self._parser.parse(clause, today) for clause in questions_in(inbound.text)]

    def tail_parse(self, inbound: InboundMessage) -> ParseResult | None:
        """The reading of the question a long message ends with, if it ends with one."""
        tail = last_question(inbound.text)
        if tail is None:
            return None
        today = _today(inbound)
        return self._parser.parse(tail, today)

    def step(self, turn: Turn, inbound: InboundMessage, parse: ParseResult,
             clauses: list[ParseResult] | None = None) -> Step:
        """A message being handled in `turn`, before anything is decided."""
        known = LedgerReads(turn).sender()  # one SELECT: who, the card's year, the caps
        figures = known.figures
        identity = Identity(
            card_number=figures.card.number if figures.card else None,
            holder_name=figures.card.holder_name if figures.card else None,
            employer_cvr=figures.employer_cvr, employer_name=figures.employer_name,
            employer_verified=figures.employer_verified)
        municipality = figures.card.municipality_code if figures.card else None
        return Step(turn=turn, inbound=inbound, parse=parse,
                    identity=turn.remember_identity((identity, municipality)),
                    config=self._config, knowledge=self._knowledge, clauses=clauses or [],
                    known=known)

    def respond(self, step: Step) -> None:
        """The dialogue's answer to one message: crisis first, in any state, then the routing."""
        found = self.crisis_in(step.inbound.text)
        if found is not None:
            flows.handoff.crisis(step, found)
        else:
            routing.route(step)
            if step.clauses:
                flows.faq.also_asked(step)  # "... og mister jeg min boligstøtte?"
                flows.balance.also_asked(step)  # "hvad har jeg tjent, og er der jobs?"
            if step.outcome in _NOT_UNDERSTOOD and not step.live \
                    and looks_english(step.inbound.text):
                step.say("english_note")  # "can you answer in english": a person can

    def crisis_in(self, text: str) -> Crisis | None:
        return detect(text, self._crisis)

    def _answer(
        self, turn: Turn, inbound: InboundMessage, parse: ParseResult, inbound_id: int,
        queue_replies: bool, outcome: list[str], clauses: list[ParseResult] | None = None,
        *, deliver_here: bool = False,
    ) -> list[Reply]:
        outcome.clear()  # the turn is retried whole on a serialisation failure
        already = turn.inbound_replies(inbound_id)
        if already is not None:  # a concurrent retry answered it while we waited for the lock
            return [Reply(text) for text in already]
        step = self.step(turn, inbound, parse, clauses)
        self.respond(step)
        step.state.pop("failures", None)
        turn.save_state()
        replies = [self._finish(reply, inbound.channel) for reply in step.replies]
        leased = turn.answer(inbound_id, step.recorded_intent,
                             tuple((reply.text, reply.buttons) for reply in replies),
                             queue=queue_replies, lease=deliver_here)
        outcome.append(step.outcome or ("silent" if not replies else "unlabelled"))
        if leased:  # all of them or none: the turn's replies are one statement's rows
            return [replace(reply, outbox_id=id_) for reply, id_ in zip(replies, leased,
                                                                          strict=True)]
        return replies

    def _recover(
        self, inbound: InboundMessage, inbound_id: int, conversation_id: int,
        error: Exception, queue_replies: bool,
    ) -> list[Reply]:
        """A turn that raised: the person still gets a short, safe reply, and the message is
        marked answered, so a provider's retry gets that reply and does not replay the crash.

        The failed turn's changes are rolled back, so the conversation is where it was before
        the message; a second failure in a row resets the flow, in case its state is the cause.
        """
        log.error("turn failed for message %s in conversation %s: %s", inbound_id,
                  conversation_id, type(error).__name__, exc_info=error)
        safely(self.observer.failed, inbound, conversation_id, error)
        reply = self._finish(Reply(bot_text("turn_failed")), inbound.channel)

        def record(turn: Turn) -> list[Reply]:
            already = turn.inbound_replies(inbound_id)
            if already is not None:
                return [Reply(text) for text in already]
            failures = int(turn.state.get("failures", 0)) + 1
            turn.state["failures"] = failures
            if failures >= 2:
                for key in FLOW_KEYS:  # the reservations expire on their own; no ledger call
                    turn.state.pop(key, None)  # here, since a ledger call may be what failed
            turn.save_state()
            turn.record_reply(reply.text, queue=queue_replies)
            turn.finish_inbound(inbound_id, "error", (reply.text,))
            return [reply]
        try:
            return self._conversations.turn(inbound.conversation_channel, inbound.sender,
                                            record, via=inbound.channel, inbound_id=inbound_id)
        except Exception as second:
            if is_database_unavailable(second):
                raise
            log.error("could not record the safe reply to message %s: %s", inbound_id,
                      type(second).__name__, exc_info=second)
            return [reply]

    def _over_rate_limit(self, inbound: InboundMessage, stored: StoredInbound) -> bool | None:
        """None: answer as usual. Over the sender's limit per minute: True for the first message
        past it (it gets the one polite reply), False for the rest (stored, not answered).

        A crisis message and STOP/START are always handled, however fast someone writes.
        """
        limit = self._config.rate_limit_per_minute
        if limit <= 0 or inbound.channel == "voice":
            return None  # a call's pace is the caller's own speech: never left in silence
        count = stored.recent
        if count is None:  # counted in the store's transaction unless stored some other way
            count = self._conversations.recent_inbound(stored, 60, at_most=limit + 2)
        if count <= limit or detect(inbound.text, self._crisis) is not None:
            return None
        keyword = keyword_of(inbound.text)
        if keyword is not None and keyword.name in ("STOP", "START"):
            return None
        return count == limit + 1

    def _rate_limited(
        self, turn: Turn, inbound: InboundMessage, inbound_id: int, first: bool,
        queue_replies: bool,
    ) -> list[Reply]:
        """Stored for a person to read, not processed; the bot stays as quiet as it would be."""
        already = turn.inbound_replies(inbound_id)
        if already is not None:
            return [Reply(text) for text in already]
        quiet = not first or turn.opted_out or turn.handoff != "bot"
        replies = [] if quiet else [self._finish(Reply(bot_text("rate_limited")), inbound.channel)]
        for reply in replies:
            turn.record_reply(reply.text, queue=queue_replies)
        turn.finish_inbound(inbound_id, "rate_limited", tuple(r.text for r in replies))
        return replies

    @staticmethod
    def _finish(reply: Reply, channel: str) -> Reply:
        # SMS must stay GSM-7; Telegram and the web could take more, but one style is kinder.
        return Reply(tidy(gsm7_safe(reply.text)), reply.buttons if channel != "sms" else ())
