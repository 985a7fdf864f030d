"""Escalated conversations: list, take, reply, resolve (the console builds on these)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.access import Caller, municipality_in_scope, require_kind
from api.bootstrap import Backend
from api.deps import LedgerDep
from api.schemas import RowId
from api_keys import ApiPrincipal
from conversations.escalations import EscalationNotFound
from conversations.records import EscalationView

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


def _in_scope(ledger: Backend, caller: ApiPrincipal, escalation_id: int) -> EscalationView:
    """Not for employer keys; a municipality key's own conversations only (else 404)."""
    require_kind(caller, "municipality")
    view = ledger.conversations.escalation(escalation_id)
    if caller.kind == "municipality" and view.municipality_code != caller.municipality_code:
        raise EscalationNotFound(id=escalation_id)
    return view


@router.get("")
def list_escalations(
    ledger: LedgerDep, caller: Caller,
    municipality: Annotated[str | None, Query(pattern=r"^\d{3}$")] = None,
) -> list[EscalationOut]:
    """Open escalations: urgent (crisis) first, then the oldest waiting (a municipality
    key: its own)."""
    require_kind(caller, "municipality")
    if caller.kind == "municipality":
        municipality_in_scope(caller, municipality or caller.municipality_code)
        municipality = caller.municipality_code
    return [EscalationOut.of(v) for v in ledger.conversations.open_escalations(municipality)]


@router.get("/{escalation_id}/transcript")
def transcript(escalation_id: RowId, ledger: LedgerDep,
               caller: Caller) -> list[TranscriptLineOut]:
    """The conversation's messages in both directions, CPR numbers redacted."""
    view = _in_scope(ledger, caller, escalation_id)
    lines = ledger.conversations.transcript(view.conversation_id)
    return [TranscriptLineOut(**vars(line)) for line in lines]


@router.post("/{escalation_id}/take")
def take(escalation_id: RowId, body: TakeIn, ledger: LedgerDep, caller: Caller) -> EscalationOut:
    """A person takes the conversation; the bot stays quiet until it is resolved."""
    _in_scope(ledger, caller, escalation_id)
    return EscalationOut.of(ledger.conversations.take(escalation_id, body.owner))


@router.post("/{escalation_id}/reply", status_code=202)
def reply(escalation_id: RowId, body: ReplyIn, request: Request, ledger: LedgerDep,
          caller: Caller) -> dict[str, int]:
    """Queues a reply to the person on their own channel; delivery status shows in the transcript."""
    _in_scope(ledger, caller, escalation_id)
    outbox_id = ledger.conversations.reply(escalation_id, body.text, body.author)
    request.app.state.kick_outbox()
    return {"outbox_id": outbox_id}


@router.post("/{escalation_id}/resolve")
def resolve(escalation_id: RowId, ledger: LedgerDep, caller: Caller) -> EscalationOut:
    """Closes the escalation and hands the conversation back to the bot."""
    _in_scope(ledger, caller, escalation_id)
    return EscalationOut.of(ledger.conversations.resolve(escalation_id))
