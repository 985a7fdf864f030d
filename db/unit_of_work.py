"""One transaction per command: commit only when the service says so, roll back otherwise."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db import audit_chain
from db.commands import Actor
from db.config import LedgerConfig
from db.vault import CprVault

Clock = Callable[[], dt.datetime]


class UnitOfWork:
    """Holds the session for one command. Nothing outside `ledger` ever sees it."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        config: LedgerConfig,
        vault: CprVault,
        clock: Clock,
    ) -> None:
        self._session_factory = session_factory
        self.config = config
        self.vault = vault
        self.now = clock()
        self.today = danish_day(self.now)
        self._audit_rows: list[dict[str, Any]] = []

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        # Read by queries that are also called with a bare session (a conversation turn).
        self.session.info["pending_ttl_seconds"] = self.config.pending_ttl_seconds
        return self

    def nested(self) -> NestedUnitOfWork:
        """A unit of work inside this one: its commit releases a savepoint, not the transaction."""
        return NestedUnitOfWork(self)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Roll back by default: a command that did not call commit() changed nothing.
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        # The audit rows go last, on the end of the hash chain (ledger/audit_chain.py).
        audit_chain.append(self.session.connection(), self._audit_rows)
        self._audit_rows = []
        self.session.commit()

    def audit(
        self, actor: Actor, action: str, entity_type: str, entity_id: object, **details: Any
    ) -> None:
        """Records who changed what, through which channel, in the same transaction (written
        when it commits, chained to the audit rows before it)."""
        self._audit_rows.append({
            "at": self.now,
            "actor": actor.name,
            "channel": actor.channel,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "details_json": json.dumps(details, default=str, sort_keys=True),
        })


class NestedUnitOfWork(UnitOfWork):
    """Lets a service function that commits itself run as one step of a larger transaction.

    Used by a conversation turn: a refused command rolls back to its savepoint and the turn
    goes on to tell the user why; the turn's own transaction commits everything at the end.
    """

    def __init__(self, outer: UnitOfWork) -> None:
        self._outer = outer
        self._audit_rows = []
        self.config = outer.config
        self.vault = outer.vault
        self.now = outer.now
        self.today = outer.today
        self.session = outer.session

    def __enter__(self) -> NestedUnitOfWork:
        self._savepoint = self.session.begin_nested()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._savepoint.is_active:
            self._savepoint.rollback()

    def commit(self) -> None:
        self.session.flush()
        if self._savepoint.is_active:
            self._savepoint.commit()
        # The step's audit rows belong to the outer transaction now; a step rolled back to
        # its savepoint takes its own with it.
        self._outer._audit_rows.extend(self._audit_rows)
        self._audit_rows = []


def _copenhagen() -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Copenhagen")


_COPENHAGEN = _copenhagen()


def danish_day(moment: dt.datetime) -> dt.date:
    """The calendar day in Denmark at `moment`: the ledger's "today" (after 23:00 UTC in winter
    it is already tomorrow there)."""
    return moment.astimezone(_COPENHAGEN).date()
