"""What the fake provider servers share: a request log and a switchable failure mode.

Both are read and written from two threads (the server's and the test's), so every access
takes a lock. A test sets a mode for the next N requests (``times=N``) or until changed
(``times=None``); when the N are used up the fake answers normally again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FailureSwitch", "RecordedRequest", "RequestLog", "wait_interruptibly"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it; ``params`` are the form or JSON fields."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]
    answered_with: str
    received_at: float = field(default_factory=time.monotonic)


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class FailureSwitch:
    """The mode the next request is answered with."""

    def __init__(self, *, ok: str = "ok") -> None:
        self._ok = ok
        self._lock = threading.Lock()
        self._mode = ok
        self._remaining: int | None = None

    def set(self, mode: str, *, times: int | None = None) -> None:
        if times is not None and times < 0:
            raise ValueError("times must be >= 0")
        with self._lock:
            self._mode = mode
            self._remaining = times

    def take(self) -> str:
        """The mode for this request; counts it against ``times``."""
        with self._lock:
            if self._remaining == 0:
                self._mode, self._remaining = self._ok, None
            mode = self._mode
            if self._remaining is not None:
                self._remaining -= 1
            return mode

    @property
    def mode(self) -> str:
        with self._lock:
            return self._ok if self._remaining == 0 else self._mode


async def wait_interruptibly(seconds: float, stop: threading.Event) -> None:
    """Sleeps like a slow provider without blocking the server's event loop; a test ends the
    wait early with ``stop.set()`` so the server can shut down without sitting it out."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
