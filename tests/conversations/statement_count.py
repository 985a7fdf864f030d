"""Counting the SQL a block sends, for the tests that hold a turn to its round trips."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements this thread sends while the block runs, transaction control left out.
    The listener is on every engine of the process, and a background job of another test in
    the same process once added one to a count: only this thread's are kept."""
    seen: list[str] = []
    here = threading.get_ident()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() == here and not statement.lstrip().upper().startswith(_CONTROL):
            seen.append(statement)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
