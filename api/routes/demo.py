"""The demo chat: a newcomer picks a demo identity and talks to the bot through the web channel."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from bot import InboundMessage
from bot.voice.line import CallEvent, CallReply
from sampledata.demo import demo_data

router = APIRouter(prefix="/demo", tags=["demo"], include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


def identities() -> list[dict[str, str]]:
    """Card holders and employers from the demo data, plus a number nobody knows."""
    data = demo_data()
    found = [{"key": h["number"], "label": f"{h['name']} (frikort {h['number']})",
              "address": h["phone"], "kind": "Borger"} for h in data["card_holders"]]
    found += [{"key": e["cvr"], "label": f"{e['name']} (CVR {e['cvr']})",
               "address": e["phone"], "kind": "Arbejdsgiver"} for e in data["employers"]]
    found.append({"key": "unknown", "label": "Ukendt nummer", "address": "", "kind": "Ukendt"})
    return found


class DemoMessageIn(BaseModel):
    identity: str = Field(max_length=20)
    session: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    text: str = Field(min_length=1, max_length=1600)


def _address(identity: str, session: str) -> str:
    known = {i["key"]: i["address"] for i in identities()}
    return known.get(identity) or f"web-{session}"


@router.get("", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "demo.html",
                                      {"identities": identities(), "session": secrets.token_hex(8)})


@router.post("/messages")
async def send(body: DemoMessageIn, request: Request) -> dict[str, Any]:
    """One message from the chosen identity; the answers and any SMS it caused come back."""
    services = request.app.state.services
    address = _address(body.identity, body.session)
    inbound = InboundMessage(channel="web", sender=address, text=body.text,
                             provider_message_id=f"web-{secrets.token_hex(12)}")
    replies = await run_in_threadpool(services.dialogue.handle, inbound)
    return {"replies": [{"text": r.text, "buttons": list(r.buttons)} for r in replies]}


@router.get("/notifications")
def notifications(identity: str, session: str, request: Request) -> dict[str, Any]:
    """SMS the system queued for this identity (e.g. a card holder told about a wage report)."""
    address = _address(identity, session)
    rows = request.app.state.services.ledger.conversations.recent_outbox(address)
    return {"messages": [{"text": t, "status": s, "channel": c} for t, s, c in rows]}


class DemoCallIn(BaseModel):
    """One turn of a call in the demo's "ring op" mode: what the caller says or keys."""

    identity: str = Field(max_length=20)
    session: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    call: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    step: int = Field(ge=0, le=10_000)
    kind: Literal["start", "gather", "dial", "hang_up"]
    speech: str = Field(default="", max_length=1600)
    digits: str = Field(default="", max_length=32, pattern=r"^[0-9*#]*$")


def _call_reply(reply: CallReply) -> dict[str, Any]:
    return {"say": [{"text": s.text, "slow": s.slow} for s in reply.say], "then": reply.then,
            "dial": reply.dial, "digits": reply.digits, "step": reply.step}


@router.post("/calls")
async def call(body: DemoCallIn, request: Request) -> dict[str, Any]:
    """"Ring op": the phone line as text turns, in the identity's web conversation (so a call
    and the chat share one state, as a call and SMS do); nothing is dialled."""
    services = request.app.state.services
    address = _address(body.identity, body.session)
    sid = f"demo-{body.call}"
    if body.kind == "hang_up":
        ended = await run_in_threadpool(services.phone_line.hang_up, sid, address, joins="web")
        return {"ended": ended}
    event = CallEvent(call_sid=sid, caller=address, kind=body.kind,
                      step=body.step, speech=body.speech, digits=body.digits,
                      confidence=0.9 if body.speech else None,
                      dial_status="no-answer" if body.kind == "dial" else "", joins="web")
    reply = await run_in_threadpool(services.phone_line.answer, event)
    return _call_reply(reply)
