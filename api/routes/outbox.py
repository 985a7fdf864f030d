"""The outbox as operators see it: counts, dead letters, and a way to send one again."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.deps import AdminActor, LedgerDep
from api.problems import problem
from api.schemas import RowId
from db.errors import danish_message

router = APIRouter(prefix="/outbox", tags=["outbox"])


class OutboxMessageOut(BaseModel):
    id: int
    channel: str
    recipient: str
    text: str
    status: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


@router.get("/stats")
def stats(ledger: LedgerDep, _: AdminActor) -> dict[str, int]:
    """How many messages are pending, sent and dead."""
    counts = ledger.conversations.outbox_counts()
    return {status: counts.get(status, 0) for status in ("pending", "sent", "dead")}


@router.get("")
def messages(
    ledger: LedgerDep, _: AdminActor,
    status: Literal["pending", "sent", "dead"] = "dead",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OutboxMessageOut]:
    """The newest messages in a state; `dead` lists what could not be delivered, and why."""
    return [OutboxMessageOut(**vars(m)) for m in ledger.conversations.outbox_messages(status, limit)]


@router.post("/{message_id}/retry", status_code=202)
def retry(message_id: RowId, request: Request, ledger: LedgerDep, _: AdminActor) -> object:
    """Sends a dead letter again, after the cause (a number, a token) has been fixed."""
    if not ledger.conversations.requeue_outbox(message_id):
        return problem(409, "not_dead_letter", danish_message("not_dead_letter"))
    request.app.state.kick_outbox()
    return {"id": message_id, "status": "pending"}
