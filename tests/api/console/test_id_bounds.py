"""Every integer path and query parameter of the console and the REST API is bounded: an id
past 64 bits, a negative one or the largest one is 404 or 422, never a 500.

Generated from the routes the app really serves, like the authorization matrix, so a new route
with an unbounded id fails here. Before (issue 14, finding 4), /console/inbox/99999999999999999
999999, ...?after=9223372036854775808 and 14 console POST routes raised OverflowError (500).
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from fastapi.routing import iter_route_contexts

from api.settings import DEV_ADMIN_API_KEY
from tests.api.console.conftest import ConsoleEnv, csrf_token, login
from tests.api.console.test_authorization_matrix import _app

OUT_OF_RANGE = ["99999999999999999999999", str(2**63), "-1", "0"]
LARGEST = str(2**63 - 1)
API_KEY = {"Authorization": f"Bearer {DEV_ADMIN_API_KEY}"}  # the console env's settings


@dataclass(frozen=True)
class IntParam:
    method: str
    path: str
    name: str
    where: str  # "path" or "query"

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.name}"


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return int in get_args(annotation)
    return False


def int_params() -> list[IntParam]:
    found = []
    for context in iter_route_contexts(_app().routes):
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", context.path or "")  # "{id:conv}" -> "{id}"
        if not context.methods or not path.startswith(("/console", "/api/v1")):
            continue
        for method in sorted(context.methods - {"HEAD"}):
            for where, params in (("path", context.dependant.path_params),
                                  ("query", context.dependant.query_params)):
                found += [IntParam(method, path, p.name, where) for p in params
                          if _is_int(p.field_info.annotation)]
    return found


PARAMS = int_params()


def test_the_walker_finds_the_ids() -> None:
    ids = {p.id for p in PARAMS}
    assert {"GET /console/inbox/{escalation_id} path:escalation_id",
            "GET /console/inbox/{escalation_id}/messages query:after",
            "POST /console/users/{user_id}/deactivate path:user_id",
            "GET /api/v1/wage-reports/{report_id} path:report_id"} <= ids, sorted(ids)
    assert len([p for p in PARAMS if p.path.startswith("/console")]) >= 15


def _url(param: IntParam, value: str) -> str:
    path = param.path
    for name in [s.split("}")[0] for s in path.split("{")[1:]]:
        path = path.replace(f"{{{name}}}", value if name == param.name else "1")
    if param.where == "query":
        return f"{path}?{param.name}={value}"
    return path


def test_every_integer_parameter_is_bounded(console_env: ConsoleEnv) -> None:
    admin = login(console_env.new_client(), "admin")
    token = csrf_token(admin)
    failures = []
    for param in PARAMS:
        values = OUT_OF_RANGE if param.where == "path" else [OUT_OF_RANGE[0], str(2**63), "-1"]
        for value in [*values, LARGEST]:
            url = _url(param, value)
            if param.path.startswith("/console"):
                response = admin.request(param.method, url, data={"csrf_token": token}
                                         if param.method != "GET" else None)
            else:
                response = console_env.client.request(param.method, url, headers=API_KEY,
                                                      json={})
            expected = (404, 422) if value != LARGEST or param.where == "path" else (200,)
            if response.status_code >= 500 or (value != LARGEST
                                               and response.status_code not in expected):
                failures.append((param.id, value, response.status_code))
    assert failures == []
