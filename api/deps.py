"""Dependencies shared by the routes: the ledger held by the app, and the caller's API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.access import Caller, require_kind
from api.bootstrap import Backend
from db.commands import Actor


def get_ledger(request: Request) -> Backend:
    ledger: Backend = request.app.state.ledger
    return ledger


def require_admin(caller: Caller) -> Actor:
    """The admin key: 401 without a valid key, 403 for a scoped key."""
    require_kind(caller)
    return caller.actor


LedgerDep = Annotated[Backend, Depends(get_ledger)]
AdminActor = Annotated[Actor, Depends(require_admin)]
