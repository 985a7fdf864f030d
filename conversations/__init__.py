"""Conversations: the store of each sender's state and transcript, the turn that handles one
message under the conversation's lock, the outbox, notifications to the other side, linking a
phone or Telegram to a card, escalations to a person and card applications taken in a chat."""

from conversations.records import Identity
from conversations.service import Conversations
from conversations.turn import Turn

__all__ = ["Conversations", "Identity", "Turn"]
