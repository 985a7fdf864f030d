"""Conversations as the api and bot see them: store, turn, outbox, escalations.

Reached as `backend.conversations`; it runs on the shared kernel (engines, clock, retries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from conversations import escalations, intake, outbox, store
from conversations.records import (
    EscalationView,
    InboundState,
    OutboxItem,
    OutboxView,
    StoredInbound,
    TranscriptLine,
)
from conversations.turn import Turn
from db.conversation_tables import Conversation
from db.handlers import CommandHandlers
from db.kernel import Kernel
from db.observe import notify, notify_tasks, take_task_events

if TYPE_CHECKING:
    from db.unit_of_work import UnitOfWork

R = TypeVar("R")


def _locked(uow: UnitOfWork, channel: str, address: str,
            inbound_id: int | None) -> tuple[Conversation, InboundState | None]:
    """The conversation under its row lock, with the turn's inbound message when named."""
    if inbound_id is not None:
        found = store.locked_with_inbound(uow.session, channel, address, inbound_id)
        if found is not None:
            return found
    return store.conversation_for(uow.session, channel, address, uow.now, lock=True), None


class Conversations:
    def __init__(self, kernel: Kernel, handlers: CommandHandlers) -> None:
        self._kernel = kernel
        self._handlers = handlers
        """The commands a turn may run (`Turn.execute`), from the composition root."""

    def store_inbound(
        self, channel: str, address: str, provider_message_id: str, text: str, *,
        count_recent: tuple[int, int] | None = None, message_channel: str | None = None,
    ) -> StoredInbound:
        """Commits the message before it is processed: whatever happens next, it is not lost.

        A message that cannot be stored exactly as sent is refused (InvalidInput) instead.
        With `count_recent` (window seconds, at most), a message not yet answered also comes
        back with `recent` counted as `recent_inbound` would, in the same transaction (one
        round of BEGIN/COMMIT fewer per message); a new message's count comes back from its
        insert. `message_channel`: the message's own channel
        when it joins another channel's conversation (a call in the caller's SMS conversation).
        """
        intake.check_inbound(address, provider_message_id, text)

        def store_it(uow: UnitOfWork) -> StoredInbound:
            counting = None
            if count_recent is not None:
                window_seconds, at_most = count_recent
                counting = (uow.now - dt.timedelta(seconds=window_seconds), at_most)
            stored = store.store_inbound(uow.session, channel, address, provider_message_id,
                                         text, uow.now, message_channel=message_channel,
                                         count_recent=counting)
            if counting is not None and stored.replies is None and stored.recent is None:
                # a retry of a message not answered yet: counted as it was the first time
                stored = replace(stored, recent=intake.recent_inbound(
                    uow.session, stored.conversation_id, stored.id, *counting))
            uow.commit()
            return stored
        return self._kernel.run_write(store_it)

    def recent_inbound(self, stored: StoredInbound, window_seconds: int, at_most: int) -> int:
        """How many messages the sender wrote in the last `window_seconds`, counting `stored`
        and none after it (at most `at_most`). The transcript is the rate limit's only state,
        so every worker process sees the same count."""
        return self._kernel.run_read(lambda uow: intake.recent_inbound(
            uow.session, stored.conversation_id, stored.id,
            uow.now - dt.timedelta(seconds=window_seconds), at_most))

    def turn(self, channel: str, address: str, handler: Callable[[Turn], R], *,
             via: str | None = None, inbound_id: int | None = None) -> R:
        """Runs `handler` under the conversation's lock; retried whole on a serialisation failure.
        `via`: the channel the turn's messages come and go on, when not the conversation's.
        `inbound_id`: the stored message the turn answers, read with the lock in the same
        statement, so `Turn.inbound_replies` (the replay check) costs no statement of its own."""
        def run(uow: UnitOfWork) -> R:
            conversation, inbound = _locked(uow, channel, address, inbound_id)
            turn = Turn(uow, conversation, self._handlers, via=via, inbound=inbound)
            result = handler(turn)
            uow.commit()
            notify(self._kernel.observer, turn.outcomes)
            notify_tasks(self._kernel.observer, take_task_events(uow.session))
            return result
        return self._kernel.run_write(run)

    def pending_buttons(self, channel: str, address: str,
                        pressed_in: str) -> tuple[str | None, tuple[str, ...]] | None:
        """The question with buttons waiting for an answer in a conversation (see
        store.pending_buttons): a pressed button counts only if it belongs to it."""
        return self._kernel.run_read(lambda uow: store.pending_buttons(
            uow.session, channel, address, pressed_in))

    # Outbox ---------------------------------------------------------------------------

    def claim_outbox(self, limit: int, channels: tuple[str, ...]) -> list[OutboxItem]:
        def claim(uow: UnitOfWork) -> list[OutboxItem]:
            items = outbox.claim_due(uow.session, uow.now, limit, channels)
            uow.commit()
            return items
        return self._kernel.run_write(claim)

    def mark_sent(self, message_id: int, provider_message_id: str) -> None:
        self.mark_sent_many([(message_id, provider_message_id)])

    def mark_sent_many(self, sent: Sequence[tuple[int, str]]) -> None:
        """Every send a batch's provider accepted, in one transaction (not one per message)."""
        def mark(uow: UnitOfWork) -> None:
            outbox.mark_sent_many(uow.session, sent, uow.now)
            uow.commit()
        self._kernel.run_write(mark)

    def release_outbox(self, message_ids: Sequence[int]) -> None:
        """Leased messages handed back to the worker unsent (`outbox.release`)."""
        def release(uow: UnitOfWork) -> None:
            outbox.release(uow.session, message_ids, uow.now)
            uow.commit()
        self._kernel.run_write(release)

    def mark_failed(
        self, message_id: int, error: str, *, transient: bool, retry_after: float | None = None
    ) -> str:
        def mark(uow: UnitOfWork) -> str:
            status = outbox.mark_failed(uow.session, message_id, error, transient=transient,
                                        retry_after=retry_after, now=uow.now)
            uow.commit()
            return status
        return self._kernel.run_write(mark)

    def recent_outbox(self, recipient: str, limit: int = 10) -> list[tuple[str, str, str]]:
        """(text, status, channel) of the latest messages queued for one address, newest first."""
        return self._kernel.run_read(
            lambda uow: outbox.recent_for(uow.session, recipient, limit))

    def outbox_messages(self, status: str, limit: int = 100) -> list[OutboxView]:
        return self._kernel.run_read(lambda uow: outbox.list_by_status(uow.session, status, limit))

    def requeue_outbox(self, message_id: int) -> bool:
        def requeue(uow: UnitOfWork) -> bool:
            done = outbox.requeue(uow.session, message_id, uow.now)
            uow.commit()
            return done
        return self._kernel.run_write(requeue)

    def outbox_counts(self) -> dict[str, int]:
        return self._kernel.run_read(lambda uow: outbox.counts(uow.session))

    # Escalations ----------------------------------------------------------------------

    def open_escalations(self, municipality_code: str | None = None) -> list[EscalationView]:
        return self._kernel.run_read(
            lambda uow: escalations.list_open(uow.session, municipality_code))

    def escalation(self, escalation_id: int) -> EscalationView:
        def read(uow: UnitOfWork) -> EscalationView:
            found, conversation = escalations.get(uow.session, escalation_id)
            return escalations.view(found, conversation)
        return self._kernel.run_read(read)

    def take(self, escalation_id: int, owner: str) -> EscalationView:
        intake.check_text(owner)

        def take_it(uow: UnitOfWork) -> EscalationView:
            view = escalations.take(uow.session, escalation_id, owner, uow.now)
            uow.commit()
            return view
        return self._kernel.run_write(take_it)

    def resolve(self, escalation_id: int) -> EscalationView:
        def resolve_it(uow: UnitOfWork) -> EscalationView:
            view = escalations.resolve(uow.session, escalation_id, uow.now)
            uow.commit()
            return view
        return self._kernel.run_write(resolve_it)

    def reply(self, escalation_id: int, text: str, author: str) -> int:
        """A person's reply: queued through the outbox to the conversation's own channel."""
        intake.check_text(text, author)

        def reply_it(uow: UnitOfWork) -> int:
            _, conversation = escalations.get(uow.session, escalation_id, lock=True)
            outbox_id = escalations.send_reply(uow.session, conversation, text, author, uow.now)
            uow.commit()
            return outbox_id
        return self._kernel.run_write(reply_it)

    def transcript(self, conversation_id: int, limit: int = 200) -> list[TranscriptLine]:
        return self._kernel.run_read(lambda uow: store.transcript(uow.session, conversation_id, limit))



