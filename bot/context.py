"""What a flow step gets: the turn, the parsed message, and helpers to reply and remember."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.config import BotConfig
from bot.job_steps import JobSteps
from bot.knowledge import KnowledgeBase
from bot.ledger_reads import Known, LedgerReads
from bot.messages import InboundMessage, Reply
from bot.textmatch import fold
from bot.texts import keys, text
from conversations.records import Identity
from conversations.turn import Turn
from db.commands import Actor
from db.errors import DomainError
from ledger import VoidReport
from nlu import ParseResult


@dataclass
class Step:
    """One message being handled. Flows read from it and append replies to it."""

    turn: Turn
    inbound: InboundMessage
    parse: ParseResult
    identity: Identity
    config: BotConfig
    knowledge: KnowledgeBase
    clauses: list[ParseResult] = field(default_factory=list)
    known: Known | None = None
    """The sender's read at the start of the turn, which `ledger` answers from while valid."""
    """The NLU's reading of each question, when the message asks two or more (bot/questions)."""
    replies: list[Reply] = field(default_factory=list)
    answered_flow: str | None = None
    """Set when an ongoing flow took the message as an answer to its question."""
    outcome: str | None = None
    """What the person got, as docs/answers.md labels it ("faq_limit/general", "balance",
    "flow:report_wage", "crisis", "fallback"...): the unit the dialogue is measured by."""
    needs_proof: bool = False
    """A caller asked for their own figures before proving the number (bot/voice asks)."""
    to_person: str | None = None
    """On the phone, why the caller is to be put through to a person now (bot/voice decides
    between the municipality's number and a callback request); other channels escalate."""

    @property
    def ledger(self) -> LedgerReads:
        """The ledger's reads (balances, cards, reports, caps), in this message's turn."""
        return LedgerReads(self.turn, self.known)

    @property
    def jobs(self) -> JobSteps:
        """The small-job commands and reads, in this message's turn."""
        return JobSteps(self.turn)

    def decide(self, outcome: str) -> None:
        """Names what this message got; the first decision stands (a rule answer given in the
        middle of a report is the answer, the reminder of the report's question is not)."""
        if self.outcome is None:
            self.outcome = outcome

    @property
    def asker(self) -> Literal["citizen", "employer"]:
        """The voice to answer in: an employer's contact (or an unknown sender who speaks of
        "min medarbejder") gets the employer's version of a rule answer."""
        if self.identity.is_employer and not self.identity.is_card_holder:
            return "employer"
        if not self.identity.is_card_holder and (self.state.get(SPOKE_AS_EMPLOYER)
                                                 or speaks_as_employer(self.inbound.text)):
            return "employer"
        return "citizen"

    @property
    def first_name(self) -> str | None:
        """The linked holder's or employer contact's first name, for a greeting."""
        name = self.identity.holder_name or self.identity.employer_name
        return name.split()[0] if name else None

    @property
    def live(self) -> bool:
        """The person is on the line: a call is never answered with silence."""
        return self.inbound.channel == "voice"

    @property
    def reads_outbox_elsewhere(self) -> bool:
        """What the ledger writes to the outbox does not reach this conversation as a reply
        (the web demo; a call, where it comes by SMS), so the bot says where it went."""
        return self.inbound.channel in ("web", "voice")

    @property
    def idle(self) -> dt.timedelta:
        """How long the sender was silent before this message."""
        return self.turn.now - self.turn.last_activity_at

    @property
    def recorded_intent(self) -> str:
        """What the transcript keeps: "flow:<name>" for an answer inside a flow, so a name or
        "sms" typed as an answer is not later counted as a message the bot did not understand."""
        return f"flow:{self.answered_flow}" if self.answered_flow else self.intent

    @property
    def state(self) -> dict[str, Any]:
        return self.turn.state

    @property
    def intent(self) -> str:
        return str(self.parse["intent"]["name"])

    @property
    def confidence(self) -> float:
        return float(self.parse["intent"]["confidence"])

    def entity(self, name: str) -> str | None:
        for found in self.parse["entities"]:
            if found["entity"] == name:
                return str(found["value"])
        return None

    def say(self, key: str, *, buttons: tuple[str, ...] = (), **values: Any) -> None:
        """The reply `key`, or its spoken version (`voice.<key>`) on a call when there is one."""
        if self.live and f"voice.{key}" in keys():
            key = f"voice.{key}"
        self.replies.append(Reply(text(key, **values), buttons))

    def say_text(self, body: str, *, buttons: tuple[str, ...] = ()) -> None:
        self.replies.append(Reply(body, buttons))

    def actor(self) -> Actor:
        who = self.identity.employer_cvr or self.identity.card_number or "unknown"
        return Actor(name=f"{self.inbound.channel}:{who}", channel=self.inbound.channel)

    def idempotency_key(self, purpose: str) -> str:
        """Stable per inbound message, so a re-processed message cannot act twice."""
        return f"{self.inbound.channel}:{self.inbound.provider_message_id}:{purpose}"

    def start_flow(self, name: str, **slots: Any) -> None:
        self.state["flow"] = name
        self.state["slots"] = {k: v for k, v in slots.items() if v is not None}
        self.state.pop("asking", None)

    def end_flow(self) -> None:
        """Forgets the flow; a wage report still awaiting JA is voided, not left reserved.

        The report flow takes its own report ids out of the state before it ends the flow on
        JA or NEJ; anything else that ends it (annuller, HJÆLP, STOP, a person, a crisis)
        abandons the reports, and their reservations must not block the card for a week.
        """
        for pending in pending_reports(self.state):
            try:
                self.turn.execute(VoidReport(report_id=pending, reason="afbrudt"),
                                  self.actor())
            except DomainError:
                pass  # already expired or settled: nothing is reserved any more
        for key in FLOW_KEYS:
            self.state.pop(key, None)

    @property
    def flow(self) -> str | None:
        return self.state.get("flow")

    @property
    def slots(self) -> dict[str, Any]:
        return self.state.setdefault("slots", {})

    def ask(self, slot: str, key: str, **values: Any) -> None:
        self.state["asking"] = slot
        self.say(key, **values)


FLOW_KEYS = ("flow", "slots", "asking", "pending", "pending_report_id", "pending_report_ids",
             "confirming", "rate_checked", "next_reports")
"""What a flow keeps in the conversation state; all of it goes when the flow ends."""


def pending_reports(state: dict[str, Any]) -> list[int]:
    """The wage reports read back and waiting for JA (older states kept one id)."""
    ids = [int(entry["id"]) for entry in state.get("pending") or ()]
    ids += [int(i) for i in state.get("pending_report_ids") or () if int(i) not in ids]
    single = state.get("pending_report_id")
    if single is not None and int(single) not in ids:
        ids.append(int(single))
    return ids


_EMPLOYER_VOICE = re.compile(
    r"\b(min|vores) (medarbejder|ansatte?)\b|\bmedarbejderen\b|\bansat hos os\b|"
    r"\bansatte? (ham|hende|en|nogen|folk)\b|\b(vi|kan vi|jeg vil|vil gerne) ansatte\b|"
    r"\bvi (har ansat|betaler|udbetaler|driver|indberetter)\b|\b(mit|vores) firma\b|"
    r"\b(betaler|udbetaler|indberetter) vi\b|"
    r"\b(min|vores) (virksomhed|butik|cafe|restaurant|forretning|bodega|forening|revisor|"
    r"bogholder)\b|\b(sla|slaa) (et |en )?(lille )?(job|opgave|opslag) op\b|"
    r"\bsom arbejdsgiver\b|\bindehaver\b|\bjeg driver\b|\bjobopslag\b|"
    r"\b(vi er|jeg har|vi har) (en |et )?(lille |mindre )?(\w+ ?)?(firma|virksomhed|cafe|butik|"
    r"gartneri|forening|restaurant|bodega|vaerksted|varksted|institution|daginstitution|"
    r"rengoringsfirma|rengoringsfirma|cykelsmed|frisor|bageri|kiosk|festival|musikfestival|"
    r"gard|landbrug|boligforening|boligorganisation|bilvask|pizzeria|vaskeri|tankstation)\b|"
    r"\bvi (soger|mangler|skal bruge|har brug for) (en|nogen|folk|ekstra|\d+|to|tre|fire)\b|"
    r"\b(kan|skal|vil) vi (sla|lave) (et |en )?(job|opslag|opgave)|"
    r"\bhvordan (annoncerer|slar|opretter|registrerer) vi\b|"
    r"\b(menighedsradet|boligforeningen|kirkekontoret|bestyrelsen|foreningen) her\b|"
    r"\b(revisor|bogholder) (for|hos)\b|\b(jeg|vi) kom til at indberette\b|"
    r"\bmin(e)? klient|\bjeg har en gard\b")


SPOKE_AS_EMPLOYER = "spoke_as_employer"
"""State: an unknown sender once wrote as an employer ("jeg driver en kiosk"), so the follow-up
"skal jeg indberette til skat" is the employer's question too."""


def speaks_as_employer(text: str) -> bool:
    """Whether an unknown sender writes as an employer ("vores medarbejder", "vi er et lille
    gartneri", "jeg har en bodega"): the employer's version of a rule answer then fits."""
    return _EMPLOYER_VOICE.search(fold(text)) is not None
