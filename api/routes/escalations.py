"""Escalated conversations: list, take, reply, resolve (the console builds on these)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import AdminActor, LedgerDep
from api.schemas import RowId
from ledger.conversations.records import EscalationView

router = APIRouter(prefix="/escalations", tags=["escalations"])


class EscalationOut(BaseModel):
    id: int
    conversation_id: int
    channel: str
    urgent: bool
    reason: str
    status: str
    owner: str | None
    created_at: dt.datetime
    municipality_code: str | None

    @classmethod
    def of(cls, view: EscalationView) -> EscalationOut:
        return cls(**{name: getattr(view, name) for name in cls.model_fields})


class TranscriptLineOut(BaseModel):
    direction: str
    author: str
    text: str
    at: dt.datetime
    delivery: str | None


class TakeIn(BaseModel):
    owner: str = Field(min_length=1, max_length=120)


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=1600)
    author: str = Field(min_length=1, max_length=120)


@router.get("")
def list_escalations(
    ledger: LedgerDep, _: AdminActor,
    municipality: Annotated[str | None, Query(pattern=r"^\d{3}$")] = None,
) -> list[EscalationOut]:
    """Open escalations: urgent (crisis) first, then the oldest waiting."""
    return [EscalationOut.of(v) for v in ledger.conversations.open_escalations(municipality)]


@router.get("/{escalation_id}/transcript")
def transcript(escalation_id: RowId, ledger: LedgerDep, _: AdminActor) -> list[TranscriptLineOut]:
    """The conversation's messages in both directions, CPR numbers redacted."""
    view = ledger.conversations.escalation(escalation_id)
    lines = ledger.conversations.transcript(view.conversation_id)
    return [TranscriptLineOut(**vars(line)) for line in lines]


@router.post("/{escalation_id}/take")
def take(escalation_id: RowId, body: TakeIn, ledger: LedgerDep, _: AdminActor) -> EscalationOut:
    """A person takes the conversation; the bot stays quiet until it is resolved."""
    return EscalationOut.of(ledger.conversations.take(escalation_id, body.owner))


@router.post("/{escalation_id}/reply", status_code=202)
def reply(escalation_id: RowId, body: ReplyIn, request: Request, ledger: LedgerDep,
          _: AdminActor) -> dict[str, int]:
    """Queues a reply to the person on their own channel; delivery status shows in the transcript."""
    outbox_id = ledger.conversations.reply(escalation_id, body.text, body.author)
    request.app.state.kick_outbox()
    return {"outbox_id": outbox_id}


@router.post("/{escalation_id}/resolve")
def resolve(escalation_id: RowId, ledger: LedgerDep, _: AdminActor) -> EscalationOut:
    """Closes the escalation and hands the conversation back to the bot."""
    return EscalationOut.of(ledger.conversations.resolve(escalation_id))
