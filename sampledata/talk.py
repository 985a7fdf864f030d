"""The last year of conversations with linked card holders, and the escalations among them.

What the console's overview counts (conversations per day, messages the bot did not
understand, escalations and their response times) needs messages to count. Each linked card
holder has one SMS conversation, opened when their phone was linked; the transcript holds
their messages of the last year with the bot's replies. Every escalation is resolved, so each
conversation is with the bot again and answers SALDO as usual.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from sampledata.plan import Plan
from sampledata.population import CardPlan
from sampledata.timeline import DAY, HOUR, Timeline

WINDOW_DAYS = 360
"""Inside the default retention period (365 days), so the retention job leaves them alone."""


@dataclass(slots=True)
class ConversationPlan:
    id: int
    card: CardPlan
    created_at: int
    last_activity_at: int


@dataclass(slots=True)
class MessagePlan:
    at: int
    conversation: ConversationPlan
    direction: str
    text: str
    author: str
    intent: str | None = None
    replies_json: str | None = None
    provider_message_id: str | None = None


@dataclass(slots=True)
class EscalationPlan:
    conversation: ConversationPlan
    created_at: int
    taken_at: int
    resolved_at: int
    owner: str


@dataclass
class Talk:
    conversations: list[ConversationPlan]
    messages: list[MessagePlan]
    """In time order."""
    escalations: list[EscalationPlan]
    """In time order."""


def build_talk(plan: Plan, rng: random.Random, clock: Timeline, cards: list[CardPlan],
               words: dict[str, Any]) -> Talk:
    lines = words["conversation_lines"]
    escalation_line = words["escalation_line"]
    conversations: list[ConversationPlan] = []
    messages: list[MessagePlan] = []
    escalations: list[EscalationPlan] = []
    window_start = clock.now - WINDOW_DAYS * DAY
    for card in cards:
        if card.phone is None or card.linked_at is None:
            continue
        conversation = ConversationPlan(len(conversations) + 1, card, card.linked_at,
                                        card.linked_at)
        conversations.append(conversation)
        start = max(card.linked_at, window_start)
        months = max(0.0, (clock.now - HOUR - start) / (30 * DAY))
        count = round(months * rng.uniform(0, 2 * plan.shares.messages_per_month))
        for at in sorted(rng.randint(start, clock.now - HOUR) for _ in range(count)):
            escalate = (at < clock.now - 4 * DAY
                        and rng.random() < plan.shares.escalation_per_message)
            line = escalation_line if escalate else rng.choice(lines)
            reply = str(line["reply"]).format(card=card.number)
            messages.append(MessagePlan(
                at=at, conversation=conversation, direction="in", text=str(line["text"]),
                author="user", intent=str(line["intent"]),
                replies_json=json.dumps([reply], ensure_ascii=False),
                provider_message_id=f"SM{rng.getrandbits(128):032x}"))
            messages.append(MessagePlan(at=at + 1, conversation=conversation, direction="out",
                                        text=reply, author="bot"))
            conversation.last_activity_at = at + 1
            if escalate:
                taken = at + rng.randint(10 * 60, 30 * HOUR)
                escalations.append(EscalationPlan(
                    conversation=conversation, created_at=at + 1, taken_at=taken,
                    resolved_at=taken + rng.randint(5 * 60, 2 * DAY),
                    owner=card.caseworker))
    messages.sort(key=lambda m: (m.at, m.conversation.id, m.direction))
    escalations.sort(key=lambda e: (e.created_at, e.conversation.id))
    return Talk(conversations, messages, escalations)
