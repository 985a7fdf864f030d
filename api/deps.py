"""Dependencies shared by the routes: the ledger held by the app, and the caller's API key."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import AuthError
from ledger import Actor, Ledger

_bearer = HTTPBearer(auto_error=False, description="The admin API key (ADMIN_API_KEY).")


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Only the admin key for now; scoped municipality and employer keys come later."""
    expected: str = request.app.state.settings.ADMIN_API_KEY.get_secret_value()
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("unauthorized")
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise AuthError("unauthorized")
    return Actor(name="api:admin", channel="api")


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
AdminActor = Annotated[Actor, Depends(require_admin)]
