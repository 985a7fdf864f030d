"""Whether this process committed a new outbox message since the worker last looked.

Why: every webhook used to wake the outbox worker, and an awake worker claims (one
transaction with a GROUP BY over the pending messages) whether or not anything was queued. Most
turns queue nothing (an SMS is answered in the webhook's TwiML), so under load each SMS cost an
empty claim: 13 % of the server's CPU in the profile of SMS rule questions and balances
(docs/load-bench.md, "Where the CPU goes"). The webhooks now wake the worker only when a
transaction of this process that inserted into the outbox has committed since; everything else
is found by the worker's poll (OUTBOX_POLL_SECONDS), as before.

Counted with SQLAlchemy events, so no command has to remember to report it: an ORM insert of
an OutboxMessage marks its session, and that session's commit bumps the count.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from db.conversation_tables import OutboxMessage

__all__ = ["committed_outbox_inserts", "mark_inserted"]

_MARK = "frikort_outbox_inserted"
_lock = threading.Lock()
_committed = 0


def committed_outbox_inserts() -> int:
    """How many transactions of this process have committed outbox inserts (only ever grows)."""
    return _committed


def mark_inserted(session: Session) -> None:
    """For an insert into the outbox that is not an ORM insert (a turn's end in one statement,
    `conversations.store.finish_turn`): its commit counts as the ORM's would."""
    session.info[_MARK] = True


def _inserted(mapper: Any, connection: Any, target: OutboxMessage) -> None:
    session = Session.object_session(target)
    if session is not None:
        mark_inserted(session)


def _after_commit(session: Session) -> None:
    global _committed
    if session.info.pop(_MARK, False):
        with _lock:
            _committed += 1


def _after_rollback(session: Session) -> None:
    session.info.pop(_MARK, None)


if not event.contains(OutboxMessage, "after_insert", _inserted):
    event.listen(OutboxMessage, "after_insert", _inserted)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
