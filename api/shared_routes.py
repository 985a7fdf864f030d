"""Routers included once per process, whichever app serves them.

FastAPI (0.137 and later) builds an included router's routes, with their parameters'
validators and response fields, on the first request that reaches them, and keeps the result on
the inclusion. An app that included its routers itself would build them again for each app:
about 90 ms for the console, paid by every test that builds an app. An inclusion made here is
one route node that any number of apps can hold, so they are built once per process.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute


_INCLUSIONS: dict[int, tuple[APIRouter, BaseRoute]] = {}
"""By the router's id (a router is not hashable); the router is kept so that its id stays its."""


def _inclusion(router: APIRouter) -> BaseRoute:
    known = _INCLUSIONS.get(id(router))
    if known is None:
        holder = APIRouter()
        holder.include_router(router)
        (node,) = holder.routes
        known = _INCLUSIONS.setdefault(id(router), (router, node))
    return known[1]


def include_shared(app: FastAPI, router: APIRouter) -> None:
    """`app.include_router(router)`, with the built routes shared between apps.

    The router must be complete when first included, with no dependency overrides meant for
    one app: an inclusion belongs to no app in particular.
    """
    app.router.routes.append(_inclusion(router))
