"""Open-loop phases at a fixed arrival rate, and a closed-loop saturation phase.

Open loop: message k is due at ``start + k / rate`` whatever happened before, and its latency
is measured from that *scheduled* time, not from when it was actually sent. A server (or a
generator) that falls behind therefore shows its queueing in the latency instead of quietly
lowering the rate (coordinated omission). Closed loop: ``concurrency`` senders each send the
next message as soon as their previous one is answered; its achieved rate is the capacity.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["PhaseRecorder", "PhaseResult", "Target", "closed_loop", "open_loop", "percentile"]

MAX_SAMPLES = 6
STARVED = "no idle sender: every one is in a conversation (use more --senders)"
LATE_S = 0.010
"""A send that leaves this much after its scheduled time counts as late (generator lag)."""


class Target(Protocol):
    """Something to load: hands out the next request and sends it, recording the outcome."""

    def next(self) -> object | None: ...

    async def send(self, item: object, scheduled: float, phase: PhaseRecorder) -> None: ...


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (NaN when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass
class PhaseResult:
    label: str
    offered: float | None
    concurrency: int | None
    duration_s: float
    elapsed_s: float
    sent: int
    ok: int
    latencies_ms: list[float]
    delivery_ms: list[float]
    errors: Counter[str]
    samples: list[str]
    by_category: Counter[str]
    by_channel: Counter[str]
    late: int
    stopped_after_s: float | None = None
    """Set when an open-loop phase stopped sending early because the backlog grew too long."""
    usage: dict[str, float | None] = field(default_factory=dict)
    latencies_by_channel: dict[str, list[float]] = field(default_factory=dict)
    """The answered turns' latencies per channel (sms, telegram, voice), ascending."""
    focus: str | None = None
    """A cost phase: what it was narrowed to (one channel, some kinds of question)."""
    conversations: int | None = None
    """A cost phase: the conversations (calls) finished during it."""

    @property
    def achieved(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def latency(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    def delivery(self, p: float) -> float:
        return percentile(self.delivery_ms, p)

    def channel_latency(self, channel: str, p: float) -> float:
        return percentile(self.latencies_by_channel.get(channel, []), p)

    @property
    def server_cpu_ms_per_message(self) -> float | None:
        """The server's CPU time over the phase per answered message: what a message costs."""
        cpu_s = self.usage.get("server_cpu_s")
        if cpu_s is None or not self.ok:
            return None
        return cpu_s * 1000 / self.ok


class PhaseRecorder:
    """Collects one phase's outcomes; background waits (Telegram replies) are tracked too."""

    def __init__(self, label: str, *, offered: float | None = None,
                 concurrency: int | None = None, duration_s: float = 0.0) -> None:
        self.label = label
        self.offered = offered
        self.concurrency = concurrency
        self.duration_s = duration_s
        self.start = time.perf_counter()
        self.last_done = self.start
        self.sent = 0
        self.late = 0
        self._latencies: list[float] = []
        self._by_channel: dict[str, list[float]] = {}
        self._delivery: list[float] = []
        self.errors: Counter[str] = Counter()
        self.samples: list[str] = []
        self.by_category: Counter[str] = Counter()
        self.by_channel: Counter[str] = Counter()
        self._pending: set[asyncio.Task[None]] = set()
        self.stopped_after_s: float | None = None

    def ok(self, scheduled: float, done: float, category: str, channel: str) -> None:
        latency = (done - scheduled) * 1000
        self._latencies.append(latency)
        self._by_channel.setdefault(channel, []).append(latency)
        self.last_done = max(self.last_done, done)
        self.by_category[category] += 1
        self.by_channel[channel] += 1

    def delivered(self, scheduled: float, at: float) -> None:
        self._delivery.append((at - scheduled) * 1000)

    def error(self, kind: str, sample: str | None = None) -> None:
        self.errors[kind] += 1
        self.last_done = max(self.last_done, time.perf_counter())
        line = f"{kind}: {sample}"
        if sample and len(self.samples) < MAX_SAMPLES and line not in self.samples:
            self.samples.append(line)

    def track(self, task: asyncio.Task[None]) -> None:
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self, timeout_s: float) -> None:
        """Waits for the background waits of this phase (they time out on their own)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout_s)

    def result(self) -> PhaseResult:
        return PhaseResult(
            label=self.label, offered=self.offered, concurrency=self.concurrency,
            duration_s=self.duration_s, stopped_after_s=self.stopped_after_s,
            elapsed_s=max(self.stopped_after_s or self.duration_s, self.last_done - self.start),
            sent=self.sent,
            ok=len(self._latencies), latencies_ms=sorted(self._latencies),
            delivery_ms=sorted(self._delivery), errors=self.errors, samples=self.samples,
            by_category=self.by_category, by_channel=self.by_channel, late=self.late,
            latencies_by_channel={c: sorted(v) for c, v in self._by_channel.items()})


async def open_loop(target: Target, rate: float, duration_s: float, *, label: str,
                    drain_s: float = 60.0, max_backlog_s: float = 5.0) -> PhaseResult:
    """Sends at ``rate`` messages per second for ``duration_s``; latency from schedule.

    A server that cannot keep up is not driven further into the ground: once more than
    ``max_backlog_s`` seconds' worth of messages are waiting for an answer the phase stops
    sending (the result says when), and what is in flight is awaited, so the next phase
    starts on an idle server.
    """
    phase = PhaseRecorder(label, offered=rate, duration_s=duration_s)
    in_flight: set[asyncio.Task[None]] = set()
    start = phase.start = time.perf_counter() + 0.01
    total = int(rate * duration_s)
    for k in range(total):
        scheduled = start + k / rate
        if len(in_flight) > rate * max_backlog_s:
            phase.stopped_after_s = scheduled - start
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif -delay > LATE_S:
            phase.late += 1
        item = target.next()
        if item is None:
            phase.error("generator_starved", STARVED)
            continue
        phase.sent += 1
        task = asyncio.create_task(target.send(item, scheduled, phase))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(set(in_flight), timeout=drain_s)
    await phase.drain(drain_s)
    return phase.result()


async def closed_loop(target: Target, concurrency: int, duration_s: float, *, label: str,
                      drain_s: float = 60.0) -> PhaseResult:
    """``concurrency`` senders, each sending again as soon as it has its answer."""
    phase = PhaseRecorder(label, concurrency=concurrency, duration_s=duration_s)
    end = phase.start + duration_s

    async def sender() -> None:
        while time.perf_counter() < end:
            item = target.next()
            if item is None:
                phase.error("generator_starved", STARVED)
                await asyncio.sleep(0.001)
                continue
            phase.sent += 1
            await target.send(item, time.perf_counter(), phase)

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    await phase.drain(drain_s)
    return phase.result()
