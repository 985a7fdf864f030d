"""One cache of compiled SQL per process, shared by every engine of the same kind of database.

SQLAlchemy compiles a statement once per engine: its cache key holds the engine's dialect
object. A process with several engines compiles everything several times: SQLite has a reader
and a writer engine, a CLI command or a benchmark may open a second `Backend`, and the test
suite opens one per test, where compiling again was a quarter of the CPU. This cache stands in
for the dialect object with what compilation depends on: the dialect's class and its plain
settings once it has met its server (version, parameter style, identifier lengths, feature
flags). Engines whose dialects agree on all of those share the compiled form; any difference
keeps them apart.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any

_PLAIN = (str, int, float, bool, type(None))


def _plain(value: object) -> bool:
    if isinstance(value, tuple):
        return all(_plain(item) for item in value)
    return isinstance(value, _PLAIN)


class SharedCompiledCache:
    """A bounded, thread-safe mapping with the interface SQLAlchemy's `compiled_cache` uses
    (`get` and item assignment), keyed by dialect settings instead of the dialect object."""

    def __init__(self, size: int = 5000) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._signatures: weakref.WeakKeyDictionary[Any, tuple[Any, ...]] = (
            weakref.WeakKeyDictionary())

    def signature(self, dialect: Any) -> tuple[Any, ...] | Any:
        """What compilation depends on; the dialect itself until it has met its server (its
        settings may still change), so nothing is shared before that."""
        known = self._signatures.get(dialect)
        if known is not None:
            return known
        if getattr(dialect, "server_version_info", None) is None:
            return dialect
        settings = tuple(sorted((name, value) for name, value in vars(dialect).items()
                                if _plain(value)))
        found = (type(dialect), settings)
        self._signatures[dialect] = found
        return found

    def _key(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        return (self.signature(key[0]), *key[1:])

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        shared = self._key(key)
        with self._lock:
            found = self._entries.get(shared)
            if found is None:
                return default
            self._entries.move_to_end(shared)
            return found

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        shared = self._key(key)
        with self._lock:
            self._entries[shared] = value
            self._entries.move_to_end(shared)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


PROCESS_COMPILED_SQL = SharedCompiledCache()
"""The one cache `db.engine.make_engines` gives every engine it makes."""
