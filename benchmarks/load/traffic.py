"""The message mix and the conversations the load generator plays (data in traffic.yml).

A `TrafficSource` hands the driver one message at a time: a waiting next turn of a
conversation whose previous reply has arrived, else the first turn of a new conversation with
an idle sender. So every sender's turns go in order, the next only after the reply, and a
fixed arrival rate stays fixed however many conversations are open. Senders are taken in
turn from each pool, so a long run uses all of them.

A phone call is a conversation of the `voice` channel: its first turn rings (the voice URL),
the next ones say something or press keys at the <Gather action> the previous answer gave
(`Conversation.call_sid`, `Conversation.next_path`; the target keeps them up to date).
Callers have pools of their own, so nobody texts and calls at once.

`TrafficSource.focus` narrows the mix to one channel and some categories for a while (the cost
phases: SMS turns against call turns of the same kinds of question, like for like).
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from benchmarks.load.seed import Population, Sender

__all__ = ["Conversation", "Focus", "Message", "Mix", "TrafficSource", "load_mix",
           "sample_texts"]

WHO = ("holder", "employer", "unknown", "applicant")
CHANNELS = ("text", "voice")
"""A conversation kind is played by text (SMS or Telegram, as the sender uses) or by phone."""
APPLY_POSTCODES = ("8000", "5000", "9000", "6000")
"""Postcodes in one municipality each (2200 or 7100 span two, and the bot would ask which)."""
NAMES = ("Peter Nielsen", "Anne Sørensen", "Lars Kristensen", "Maria Holm", "Ole Madsen",
         "Camilla Berg", "Søren Dahl", "Hanne Lund")


@dataclass(frozen=True)
class Variant:
    say: str
    expect: tuple[str, ...]
    button: bool = False
    keys: bool = False
    """On a call: ``say`` is pressed on the keypad (Digits), not spoken (SpeechResult)."""
    ring: bool = False
    """On a call: its first turn, the call itself (the greeting is expected)."""


@dataclass(frozen=True)
class Kind:
    name: str
    category: str
    who: str
    weight: float
    turns: tuple[tuple[Variant, ...], ...]
    channel: str = "text"


@dataclass(frozen=True)
class Mix:
    categories: dict[str, float]
    kinds: tuple[Kind, ...]
    voice: float = 0.0
    """Percent of all messages that are turns of phone calls; the categories share the rest."""

    def start_weights(self) -> list[float]:
        """How often each kind starts, so that messages (not conversations) match the shares:
        voice kinds share ``voice`` % by weight, text kinds the rest by category and weight."""
        totals: dict[str, float] = {}
        voice_total = sum(k.weight for k in self.kinds if k.channel == "voice")
        for kind in self.kinds:
            if kind.channel == "text":
                totals[kind.category] = totals.get(kind.category, 0.0) + kind.weight
        text_share = (100 - self.voice) / 100
        return [(self.voice * k.weight / voice_total if k.channel == "voice" else
                 text_share * self.categories[k.category] * k.weight / totals[k.category])
                / len(k.turns) for k in self.kinds]


def load_mix(text: str | None = None) -> Mix:
    """Reads traffic.yml (or ``text``); refuses shares that do not add up or unknown names."""
    if text is None:
        text = resources.files("benchmarks.load").joinpath("traffic.yml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    categories = {str(k): float(v) for k, v in data["categories"].items()}
    if abs(sum(categories.values()) - 100) > 1e-6:
        raise ValueError(f"category shares add up to {sum(categories.values())}, not 100")
    voice = float(data.get("voice", 0))
    if not 0 <= voice < 100:
        raise ValueError(f"voice share {voice} is not a percentage below 100")
    kinds = []
    for raw in data["conversations"]:
        channel = str(raw.get("channel", "text"))
        if raw["category"] not in categories or raw["who"] not in WHO or channel not in CHANNELS:
            raise ValueError(f"conversation {raw['name']}: unknown category, who or channel")
        turns = tuple(tuple(_variant(v) for v in (turn["pick"] if "pick" in turn else [turn]))
                      for turn in raw["turns"])
        if channel == "voice" and (raw["who"] == "applicant"
                                   or not all(v.ring for v in turns[0])
                                   or any(v.ring for t in turns[1:] for v in t)):
            raise ValueError(f"conversation {raw['name']}: a call rings first, and only then "
                             "(and applicants do not call)")
        kinds.append(Kind(raw["name"], raw["category"], raw["who"], float(raw["weight"]),
                          turns, channel))
    text_categories = {k.category for k in kinds if k.channel == "text"}
    unused = set(categories) - text_categories
    if unused:
        raise ValueError(f"categories without a conversation: {sorted(unused)}")
    if (voice > 0) != any(k.channel == "voice" for k in kinds):
        raise ValueError("a voice share needs voice conversations, and they need a share")
    return Mix(categories, tuple(kinds), voice)


def _variant(raw: dict[str, Any]) -> Variant:
    return Variant(str(raw.get("say", "")), tuple(str(e) for e in raw.get("expect", ())),
                   bool(raw.get("button", False)), bool(raw.get("keys", False)),
                   bool(raw.get("ring", False)))


@dataclass(frozen=True)
class Turn:
    text: str
    expect: tuple[str, ...]
    button: bool
    keys: bool = False
    ring: bool = False


@dataclass
class Conversation:
    kind: Kind
    sender: Sender
    turns: list[Turn]
    position: int = 0
    call_sid: str = ""
    """A call's CallSid, from its first turn on."""
    next_path: str = ""
    """Where a call's next turn goes: the <Gather action> of the last answer."""

    @property
    def current(self) -> Turn:
        return self.turns[self.position]


@dataclass(frozen=True)
class Message:
    """One turn to send; ``conversation.current`` is its turn until the driver advances it."""

    conversation: Conversation
    turn: Turn

    @property
    def category(self) -> str:
        return self.conversation.kind.category

    @property
    def channel(self) -> str:
        return self.conversation.sender.channel


def _render(template: str, values: dict[str, str]) -> str:
    return template.format(**values) if "{" in template else template


def _conversation(kind: Kind, sender: Sender, rng: random.Random) -> Conversation:
    values = {
        "card": sender.card or "",
        "card_end": (sender.card or "")[-2:],
        "employee": rng.choice(sender.employees) if sender.employees else "",
        "amount": str(rng.randrange(300, 951, 50)),
        "hours": str(rng.randint(2, 6)),
        "postcode": sender.postcode or rng.choice(APPLY_POSTCODES),
        "name": rng.choice(NAMES),
    }
    turns = []
    for variants in kind.turns:
        v = rng.choice(variants)
        turns.append(Turn(_render(v.say, values), tuple(_render(e, values) for e in v.expect),
                          v.button, v.keys, v.ring))
    return Conversation(kind, sender, turns)


@dataclass(frozen=True)
class Focus:
    """Only conversations of these categories, by senders of this channel (sms, telegram or
    voice), start or go on while a focus is set."""

    channel: str
    categories: frozenset[str]

    def keeps(self, kind: Kind) -> bool:
        return (kind.channel == "voice") == (self.channel == "voice") \
            and kind.category in self.categories

    def describe(self) -> str:
        kinds = " and ".join(sorted(c.replace("_", " ") + "s" for c in self.categories))
        return f"{self.channel} only ({kinds})"


@dataclass
class SourceStats:
    started: Counter[str] = field(default_factory=Counter)
    sent_by_category: Counter[str] = field(default_factory=Counter)
    sent_by_channel: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    abandoned: int = 0
    starved: int = 0
    applicants_exhausted: int = 0
    senders_used: set[str] = field(default_factory=set)


class TrafficSource:
    """Next message to send; conversations continue when the driver calls `advance`."""

    def __init__(self, population: Population, mix: Mix, *, seed: int = 7) -> None:
        self._rng = random.Random(seed)
        self._mix = mix
        self._weights = mix.start_weights()
        half = len(population.unknowns) // 2
        groups = {
            "holder": population.holders,
            "employer": population.employers,
            # Half the unknown numbers apply for a card (each once); the rest ask and greet.
            "unknown": population.unknowns[half:],
            "applicant": population.unknowns[:half],
        }
        self._idle: dict[tuple[str, str], deque[Sender]] = {}
        for who, senders in groups.items():
            self._idle[who, "text"] = deque(s for s in senders if s.channel != "voice")
            self._idle[who, "voice"] = deque(s for s in senders if s.channel == "voice")
        self._ready: deque[Conversation] = deque()
        self._focus: Focus | None = None
        self.stats = SourceStats()

    def focus(self, focus: Focus | None) -> None:
        """Narrows what is sent to ``focus`` (None: the whole mix again). Conversations of
        other kinds wait, with their senders, until the focus is lifted."""
        if focus is not None and not any(focus.keeps(k) for k in self._mix.kinds):
            raise ValueError(f"no conversation in the mix for {focus.describe()}")
        self._focus = focus
        self._weights = [w if focus is None or focus.keeps(k) else 0.0
                         for k, w in zip(self._mix.kinds, self._mix.start_weights(), strict=True)]

    def senders_in_focus(self) -> int:
        """How many idle senders the focused kinds draw from (all of them, without a focus)."""
        pools = {(k.who, k.channel) for k in self._mix.kinds
                 if self._focus is None or self._focus.keeps(k)}
        return sum(1 for key in pools for sender in self._idle[key]
                   if self._focus is None or sender.channel == self._focus.channel)

    def next_message(self) -> Message | None:
        """A ready follow-up turn first; else a new conversation; None if no sender is idle."""
        conversation = self._next_ready() or self._start()
        if conversation is None:
            self.stats.starved += 1
            return None
        message = Message(conversation, conversation.current)
        self.stats.sent_by_category[message.category] += 1
        self.stats.sent_by_channel[message.channel] += 1
        self.stats.senders_used.add(conversation.sender.address)
        return message

    def _next_ready(self) -> Conversation | None:
        for _ in range(len(self._ready)):
            conversation = self._ready.popleft()
            if self._focus is None or self._focus.keeps(conversation.kind):
                return conversation
            self._ready.append(conversation)
        return None

    def _start(self) -> Conversation | None:
        chosen = self._rng.choices(range(len(self._mix.kinds)), weights=self._weights, k=1)[0]
        if self._mix.kinds[chosen].who == "applicant" and not self._idle["applicant", "text"]:
            self.stats.applicants_exhausted += 1
        # The chosen kind, else any other whose pool has an idle sender (tiny populations).
        for index in [chosen, *range(len(self._mix.kinds))]:
            kind = self._mix.kinds[index]
            if self._focus is not None and not self._focus.keeps(kind):
                continue
            sender = self._idle_sender(self._idle[kind.who, kind.channel])
            if sender is not None:
                self.stats.started[kind.name] += 1
                return _conversation(kind, sender, self._rng)
        return None

    def _idle_sender(self, pool: deque[Sender]) -> Sender | None:
        """The longest idle sender of the pool (of the focused channel, if any)."""
        for _ in range(len(pool)):
            sender = pool.popleft()
            if self._focus is None or sender.channel == self._focus.channel:
                return sender
            pool.append(sender)
        return None

    def advance(self, conversation: Conversation) -> None:
        """The reply to the current turn arrived: queue the next turn, or end it."""
        conversation.position += 1
        if conversation.position < len(conversation.turns):
            self._ready.append(conversation)
            return
        self.stats.completed += 1
        self._release(conversation)

    def abandon(self, conversation: Conversation) -> None:
        """The turn failed: the sender gives up, and is not used again in this run (the
        server may still be working on the message, so its state there is unknown)."""
        self.stats.abandoned += 1

    def _release(self, conversation: Conversation) -> None:
        if conversation.kind.who != "applicant":  # an applicant applies only once
            self._idle[conversation.kind.who, conversation.kind.channel].append(
                conversation.sender)


def sample_texts(population: Population, mix: Mix, count: int, *, seed: int = 11) -> list[str]:
    """``count`` message texts in the same mix, for servers without conversations (Rasa);
    a call's ring and key presses are no texts, what the caller says is."""
    rng = random.Random(seed)
    weights = mix.start_weights()
    pools = {"holder": population.holders, "employer": population.employers,
             "unknown": population.unknowns, "applicant": population.unknowns}
    texts: list[str] = []
    while len(texts) < count:
        kind = rng.choices(mix.kinds, weights=weights, k=1)[0]
        conversation = _conversation(kind, rng.choice(pools[kind.who]), rng)
        texts.extend(turn.text for turn in conversation.turns
                     if not (turn.ring or turn.keys))
    return texts[:count]
