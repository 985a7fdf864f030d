"""Dependencies shared by the routes: the ledger held by the app, and the caller's API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.access import Caller, require_kind
from ledger import Actor, Ledger


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


def require_admin(caller: Caller) -> Actor:
    """The admin key: 401 without a valid key, 403 for a scoped key."""
    require_kind(caller)
    return caller.actor


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
AdminActor = Annotated[Actor, Depends(require_admin)]
