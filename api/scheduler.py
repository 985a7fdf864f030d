"""The server's background scheduler: delivers the outbox to Twilio and Telegram and runs the
periodic jobs (expiry of unconfirmed reports, small jobs' prompts and digests, outreach,
retention) on their intervals.

Runs in every server process; the ledger's claim lease and row locks keep two processes from
sending the same message. A message is marked sent only after the provider accepted it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread

from api.bootstrap import Backend
from api.channels.senders import CHANNELS, DeliveryError, OutboundMessage, Sender
from api.db_outage import describe
from conversations.outbox import CLAIM_LEASE_S
from conversations.outbox_signal import committed_outbox_inserts
from conversations.records import OutboxItem
from db.base import one_of
from db.commands import Actor
from db.engine import is_database_unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
SYSTEM = Actor(name="system:maintenance", channel="system")
EXPIRY_EVERY_S = 60.0
CLAIM_BATCH = 8
"""Messages claimed at a time, each to a different recipient, each leased to this worker for
CLAIM_LEASE_S only. They are sent side by side (SEND_CONCURRENCY at once), so a batch takes
about one send, not eight: with a provider that times out (10 s a try), a batch of 20 sent one
after another outlived its lease, the other worker claimed the rest too, and both sent them
(tests/faults)."""
SEND_CONCURRENCY = 8
"""Sends of one batch in flight at once (one per recipient, so order per recipient holds)."""
LAST_SEND_START_S = CLAIM_LEASE_S - 20.0
"""No send of a batch starts later than this after its claim, so that it ends (the senders
time out after 10 s; twice that leaves room to mark it) while the lease still holds; what is
left waits for its lease to run out."""


async def _in_pool(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The delivery's database work in the threads the webhooks' turns run in: it waits for
    one of the pool's connections like a turn does (the thread limit is the pool's size, see
    api/app.py), instead of opening one beyond the pool, which PostgreSQL forks and the pool
    closes again (about one a second under load when the outbox used threads of its own)."""
    return await anyio.to_thread.run_sync(functools.partial(work, *args, **kwargs))


@dataclass
class PeriodicJob:
    """A blocking function the loop starts in a thread every `every_s` seconds (the first time
    `first_after_s` after start), never twice at once; deliveries go on while it runs. Its
    failures are logged and it is tried again at its next time."""

    name: str
    every_s: float
    run: Callable[[], object]
    first_after_s: float = 0.0
    due: float | None = None
    task: asyncio.Task[None] | None = None


class BackgroundScheduler:
    """One per process: the outbox delivery loop, woken by committed outbox inserts or its poll,
    and the periodic jobs, each when it is due."""

    def __init__(self, ledger: Backend, senders: dict[str, Sender], *, poll_s: float = 1.0) -> None:
        self._ledger = ledger
        self._senders = senders
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None
        self._queued_seen = committed_outbox_inserts()
        self._unrecorded: list[tuple[int, str, str]] = []
        """(message id, channel, provider id) of sends accepted but not yet marked sent."""
        self._recording = False
        """A `_record_sent` is marking a batch: sends accepted meanwhile go in its next one."""
        self._deliveries: set[asyncio.Task[None]] = set()
        """The webhooks' direct deliveries under way (`deliver_leased_soon`)."""
        self.jobs: list[PeriodicJob] = []
        self.on_delivery: Callable[[str, str], None] = lambda channel, outcome: None
        """Told (channel, 'sent' | 'retry' | 'dead') for every delivery attempt (metrics)."""

    def add_job(self, job: PeriodicJob) -> None:
        self.jobs.append(job)

    async def run_due_jobs(self, now: float) -> None:
        """Starts the jobs that are due (tests await `job.task` to see one finish)."""
        for job in self.jobs:
            if job.due is None:
                job.due = now + job.first_after_s
            if now < job.due or (job.task is not None and not job.task.done()):
                continue
            job.due = now + job.every_s
            job.task = asyncio.create_task(self._run_job(job), name=f"job-{job.name}")

    async def wait_for_jobs(self) -> None:
        """At shutdown: lets a job that is running finish (it works in short transactions)."""
        running = [job.task for job in self.jobs if job.task is not None and not job.task.done()]
        if running:
            await asyncio.gather(*running, return_exceptions=True)

    @staticmethod
    async def _run_job(job: PeriodicJob) -> None:
        try:
            await asyncio.to_thread(job.run)
        except Exception:  # the next run may succeed; the loop goes on delivering
            log.exception("background job %s failed", job.name)

    def _counted(self, channel: str, outcome: str) -> None:
        try:
            self.on_delivery(channel, outcome)
        except Exception:
            log.exception("delivery observer failed")

    def kick(self) -> None:
        """Something was queued: deliver now rather than at the next poll."""
        self._wake.set()

    def kick_if_queued(self) -> None:
        """After a webhook's turn: wake the worker only if this process committed an outbox
        message since the last such wake (conversations/outbox_signal.py). A turn that queued
        nothing would only make the worker claim an empty outbox."""
        seen = committed_outbox_inserts()
        if seen != self._queued_seen:
            self._queued_seen = seen
            self._wake.set()

    async def deliver_due(self, limit: int = CLAIM_BATCH) -> int:
        """Sends what is due on the configured channels; returns how many were handled.

        Only while the claim's lease surely holds, and not once the server is stopping: a
        message sent after its lease ran out may be sent by another worker as well.
        """
        channels = tuple(self._senders)
        if not channels:
            return 0
        await self._record_sent()  # first what was sent while the database was away
        loop = asyncio.get_running_loop()
        claimed_at = loop.time()  # before the claim, so the lease ends after claimed_at + lease
        items = await _in_pool(self._ledger.conversations.claim_outbox, limit, channels)
        # A claim holds at most one message per recipient (the oldest), so the batch's sends
        # are independent: they go out side by side, a few at a time, and are recorded in one
        # transaction. Per-recipient order holds: a recipient's next message is claimed only
        # once this one is marked sent.
        slots = asyncio.Semaphore(SEND_CONCURRENCY)
        left_behind = 0

        async def send(item: OutboxItem) -> None:
            nonlocal left_behind
            async with slots:
                late = loop.time() - claimed_at > LAST_SEND_START_S
                if late or (self._stop is not None and self._stop.is_set()):
                    left_behind += 1
                    return
                await self._deliver(item)

        await asyncio.gather(*(send(item) for item in items))
        if left_behind:
            log.warning("outbox: %d claimed messages left until their lease ends (%s)",
                        left_behind, "stopping" if self._stop is not None and self._stop.is_set()
                        else "sending was slow")
        await self._record_sent()
        return len(items)

    def deliver_leased_soon(self, items: Sequence[OutboxItem]) -> None:
        """`deliver_leased` beside the webhook's answer: the provider gets its 200 at once,
        and the send does not hold the request (Telegram waits for that answer before it
        posts the chat's next update)."""
        task = asyncio.create_task(self.deliver_leased(items), name="outbox-direct")
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def wait_for_deliveries(self) -> None:
        """Until the direct deliveries under way are done (at shutdown, and in tests)."""
        while self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)

    async def deliver_leased(self, items: Sequence[OutboxItem]) -> None:
        """Replies a webhook's turn just wrote leased to this process (`Dialogue.handle` with
        `deliver_here`): sent now, in order, instead of after the worker's next claim. What
        is not sent (a failure, or a send that would start too late for the lease) goes back
        to the worker at once, behind the failed one; what was sent but could not be marked
        waits in `_unrecorded` like the worker's own sends. Never raises: the turn is done."""
        loop = asyncio.get_running_loop()
        leased_at = loop.time()
        unsent: Sequence[OutboxItem] = ()
        try:
            for n, item in enumerate(items):
                if loop.time() - leased_at > LAST_SEND_START_S:
                    unsent = items[n:]
                    break
                if not await self._deliver(item):  # it is rescheduled with its backoff
                    unsent = items[n + 1:]
                    break
            if unsent:
                await _in_pool(self._ledger.conversations.release_outbox,
                               [item.id for item in unsent])
            await self._record_sent()
        except Exception as error:  # the leases run out and the worker sends what is left
            log.warning("outbox: direct delivery of %d leased messages stopped (%s)",
                        len(items), describe(error))

    async def _deliver(self, item: OutboxItem) -> bool:
        """Sends one claimed message; False when it was not accepted (retried later)."""
        sender = self._senders[item.channel]
        message = OutboundMessage(channel=one_of(item.channel, CHANNELS), to=item.recipient,
                                  text=item.text, buttons=item.buttons)
        try:
            provider_id = await sender.send(message)
        except DeliveryError as error:
            status = await _in_pool(
                self._ledger.conversations.mark_failed, item.id, repr(error),
                transient=error.transient, retry_after=error.retry_after)
            log.warning("outbox message %s not delivered (%s): now %s", item.id, error.code, status)
            self._counted(item.channel, "dead" if status == "dead" else "retry")
            return False
        except Exception as error:  # a sender bug or a garbled provider answer (e.g. a 201
            # that is not JSON): the outcome is unknown, so retry with backoff like a timeout,
            # and let MAX_ATTEMPTS dead-letter it, instead of leaving it leased for ever and
            # abandoning the rest of the batch.
            log.exception("outbox message %s: unexpected error from the %s sender",
                          item.id, item.channel)
            status = await _in_pool(
                self._ledger.conversations.mark_failed, item.id,
                f"unexpected {type(error).__name__}: {error}", transient=True, retry_after=None)
            log.warning("outbox message %s not delivered (unexpected): now %s", item.id, status)
            self._counted(item.channel, "dead" if status == "dead" else "retry")
            return False
        self._unrecorded.append((item.id, item.channel, provider_id))
        return True

    async def _record_sent(self) -> None:
        """Marks accepted sends as sent, oldest first. A send the provider accepted while the
        database was away stays here (and leased) until the database is back, instead of
        being sent again when its lease ends; only a crash of this process loses that memory."""
        if self._recording:  # the batch being marked now is followed by one with these
            return
        self._recording = True
        try:
            while self._unrecorded:
                # Taken whole before the wait: what the webhooks' direct deliveries accept
                # meanwhile is marked in the next round, one transaction for all of it.
                batch, self._unrecorded = self._unrecorded, []
                try:
                    await _in_pool(
                        self._ledger.conversations.mark_sent_many,
                        [(message_id, provider_id) for message_id, _, provider_id in batch])
                except BaseException:
                    self._unrecorded[:0] = batch
                    raise
                for _, channel, _ in batch:
                    self._counted(channel, "sent")
        finally:
            self._recording = False

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        expiry_due = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            # Cleared before the claim, not after an empty one: a kick that comes while the
            # claim runs (its message committed just too late to be claimed) must end the wait
            # below at once instead of leaving that message to the next poll.
            self._wake.clear()
            try:
                handled = await self.deliver_due()
                if loop.time() >= expiry_due:
                    expired = await asyncio.to_thread(self._ledger.expire_due, actor=SYSTEM)
                    if expired:
                        log.info("expired %d unconfirmed wage reports", expired)
                    expiry_due = loop.time() + EXPIRY_EVERY_S
                await self.run_due_jobs(loop.time())
            except Exception as error:  # the loop must outlive a database outage; it retries
                if is_database_unavailable(error):  # one line per poll, not a traceback each
                    log.warning("background worker: database unavailable (%s)", describe(error))
                else:
                    log.exception("background worker iteration failed")
                handled = 0
            if handled:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
            except TimeoutError:
                pass
