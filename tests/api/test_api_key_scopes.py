"""Scoped API keys against EVERY /api/v1 route, on SQLite and PostgreSQL.

Two employers (A employs a card of Aarhus, 751; B a card of København, 101), a pending report
of each, an escalated conversation in each municipality, and two keys: one for employer A, one
for municipality 751. Each route is called with each key first on the other side's records
(404, or 403 where that kind of key may never call it) and every table is compared before and
after: nothing changed. Then on its own records, where it must get past authorization. A route
added without a row in ROUTES fails `test_the_table_covers_every_route`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from conversations.escalations import open_escalation
from db.conversation_tables import Conversation
from db.unit_of_work import UnitOfWork
from tests.api.conftest import Api
from tests.api.rest_helpers import V1
from tests.ledger.support import ADMIN, dump_tables


@dataclasses.dataclass
class World:
    cvr_a: str
    cvr_b: str
    card_a: str
    card_b: str
    report_a: int
    report_b: int
    esc_751: int
    esc_101: int
    employer_key: str
    municipality_key: str


def _escalation(api: Api, address: str, municipality: str) -> int:
    def work(uow: UnitOfWork) -> int:
        conversation = Conversation(channel="sms", address=address, municipality_code=municipality,
                                    last_activity_at=uow.now, created_at=uow.now)
        uow.session.add(conversation)
        uow.session.flush()
        found = open_escalation(uow.session, conversation, urgent=False,
                                reason="asked_for_person", now=uow.now)
        uow.commit()
        return found
    return api.ledger.run_write(work)


@pytest.fixture
def world(api: Api) -> World:
    cvr_a, card_a = api.employed_card(municipality="751")
    cvr_b, card_b = api.employed_card(municipality="101")
    report_a = api.report(cvr_a, card_a, "100.00", key="a", post=False)["id"]
    report_b = api.report(cvr_b, card_b, "100.00", key="b", post=False)["id"]
    employer_key = api.ledger.api_keys.create("employer", "Løn A", employer_cvr=cvr_a,
                                              actor=ADMIN).secret
    municipality_key = api.ledger.api_keys.create("municipality", "Aarhus system",
                                                  municipality_code="751", actor=ADMIN).secret
    world = World(cvr_a, cvr_b, card_a, card_b, report_a, report_b,
                  _escalation(api, "+4520000001", "751"), _escalation(api, "+4520000002", "101"),
                  employer_key, municipality_key)
    for key in (employer_key, municipality_key):  # the first use writes last_used_at
        assert _call(api, key, "GET", f"{V1}/caps").status_code == 200
    return world


def _call(api: Api, key: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    return api.call(method, path, auth=False, headers=headers, **kwargs)


def _report(cvr: str, card: str, key: str) -> dict[str, Any]:
    return {"employer_cvr": cvr, "card_number": card, "paid_on": "2025-06-01", "hours": "2",
            "amount": "10.00", "post": False}


Request = tuple[str, dict[str, Any]]
"""(path, keyword arguments of the call)."""
Side = Callable[[World, bool], Request]
"""The request on its own records (True) or the other side's (False)."""


def _card(suffix: str, **kw: Any) -> Callable[[str], Side]:
    def for_kind(kind: str) -> Side:
        def side(w: World, own: bool) -> Request:
            card = w.card_a if own else w.card_b
            return f"{V1}/cards/{card}{suffix}", kw
        return side
    return for_kind


def _report_path(suffix: str, **kw: Any) -> Callable[[str], Side]:
    def for_kind(kind: str) -> Side:
        def side(w: World, own: bool) -> Request:
            return f"{V1}/wage-reports/{w.report_a if own else w.report_b}{suffix}", kw
        return side
    return for_kind


def _esc(suffix: str, **kw: Any) -> Callable[[str], Side]:
    def for_kind(kind: str) -> Side:
        def side(w: World, own: bool) -> Request:
            return f"{V1}/escalations/{w.esc_751 if own else w.esc_101}{suffix}", kw
        return side
    return for_kind


def _fixed(path: str, **kw: Any) -> Callable[[str], Side]:
    return lambda kind: (lambda w, own: (f"{V1}{path}", kw))


def _wage_report(kind: str) -> Side:
    def side(w: World, own: bool) -> Request:
        if kind == "employer":  # its own CVR, or another's
            body = _report(w.cvr_a if own else w.cvr_b, w.card_a if own else w.card_b, "x")
        else:  # the municipality's own card, or another municipality's
            body = _report(w.cvr_a if own else w.cvr_b, w.card_a if own else w.card_b, "x")
        return f"{V1}/wage-reports", {"json": body,
                                      "headers": {"Idempotency-Key": f"scope-{own}"}}
    return side


def _batch(kind: str) -> Side:
    def side(w: World, own: bool) -> Request:
        body = _report(w.cvr_a if own else w.cvr_b, w.card_a if own else w.card_b, "x")
        return f"{V1}/wage-reports/batch", {
            "json": {"reports": [{**body, "idempotency_key": f"batch-{own}"}]}}
    return side


def _employment(kind: str) -> Side:
    def side(w: World, own: bool) -> Request:
        return f"{V1}/employments", {"json": {
            "employer_cvr": w.cvr_a if own else w.cvr_b, "card_number": w.card_a if own
            else w.card_b, "start_date": "2025-03-01", "weekly_hours": "3"}}
    return side


def _issue(kind: str) -> Side:
    def side(w: World, own: bool) -> Request:
        return f"{V1}/cards", {"json": {"cpr": "0101801234", "name": "Ny Borger",
                                        "municipality_code": "751" if own else "101",
                                        "valid_from": "2025-01-01"}}
    return side


def _export(kind: str) -> Side:
    return lambda w, own: (f"{V1}/exports/wage-reports",
                           {"params": {"municipality": "751" if own else "101", "year": 2025}})


def _escalations(kind: str) -> Side:
    return lambda w, own: (f"{V1}/escalations",
                           {"params": {} if own else {"municipality": "101"}})


def _verify(kind: str) -> Side:
    return lambda w, own: (f"{V1}/employers/{w.cvr_b}/verify", {})


REASON = {"json": {"reason": "test"}}
OK, NO, SCOPED = "ok", "forbidden", "scoped"
"""Any key of the kind may call it / 403 always / own records only (404 for the others')."""

# (method, route): (request builder, employer key, municipality key)
ROUTES: dict[tuple[str, str], tuple[Callable[[str], Side], str, str]] = {
    ("GET", "/api/v1/caps"): (_fixed("/caps"), OK, OK),
    ("PUT", "/api/v1/caps/{year}"): (
        _fixed("/caps/2030", json={"amount": "50000.00", "source": "https://x.dk"}), NO, NO),
    ("POST", "/api/v1/employers"): (
        _fixed("/employers", json={"cvr": "31425360", "name": "Ny ApS"}), NO, OK),
    ("POST", "/api/v1/employers/{cvr}/verify"): (_verify, NO, OK),
    ("POST", "/api/v1/cards"): (_issue, NO, "forbidden-other"),
    ("GET", "/api/v1/cards/{number}"): (_card(""), NO, SCOPED),
    ("POST", "/api/v1/cards/{number}/deactivate"): (_card("/deactivate", **REASON), NO, SCOPED),
    ("POST", "/api/v1/cards/{number}/reactivate"): (_card("/reactivate", **REASON), NO, SCOPED),
    ("POST", "/api/v1/cards/{number}/transfer"): (
        _card("/transfer", json={"municipality_code": "751"}), NO, SCOPED),
    ("GET", "/api/v1/cards/{number}/balance"): (_card("/balance"), NO, SCOPED),
    ("GET", "/api/v1/cards/{number}/check"): (_card("/check"), SCOPED, SCOPED),
    ("POST", "/api/v1/employments"): (_employment, SCOPED, SCOPED),
    ("POST", "/api/v1/wage-reports"): (_wage_report, SCOPED, SCOPED),
    ("POST", "/api/v1/wage-reports/batch"): (_batch, "batch", "batch"),
    ("GET", "/api/v1/wage-reports/{report_id:not_batch}"): (_report_path(""), SCOPED, SCOPED),
    ("POST", "/api/v1/wage-reports/{report_id}/post"): (_report_path("/post"), SCOPED, SCOPED),
    ("POST", "/api/v1/wage-reports/{report_id}/void"): (_report_path("/void"), SCOPED, SCOPED),
    ("POST", "/api/v1/wage-reports/{report_id}/reverse"): (
        _report_path("/reverse", **REASON), NO, SCOPED),
    ("GET", "/api/v1/exports/wage-reports"): (_export, NO, SCOPED),
    ("GET", "/api/v1/stats/usage"): (_fixed("/stats/usage", params={"year": 2025}), NO, NO),
    ("GET", "/api/v1/escalations"): (_escalations, NO, SCOPED),
    ("GET", "/api/v1/escalations/{escalation_id}/transcript"): (_esc("/transcript"), NO, SCOPED),
    ("POST", "/api/v1/escalations/{escalation_id}/take"): (
        _esc("/take", json={"owner": "Lone"}), NO, SCOPED),
    ("POST", "/api/v1/escalations/{escalation_id}/reply"): (
        _esc("/reply", json={"text": "Hej", "author": "Lone"}), NO, SCOPED),
    ("POST", "/api/v1/escalations/{escalation_id}/resolve"): (_esc("/resolve"), NO, SCOPED),
    ("GET", "/api/v1/outbox/stats"): (_fixed("/outbox/stats"), NO, NO),
    ("GET", "/api/v1/outbox"): (_fixed("/outbox"), NO, NO),
    ("POST", "/api/v1/outbox/{message_id}/retry"): (_fixed("/outbox/1/retry"), NO, NO),
}


def test_the_table_covers_every_route(sqlite_api: Api) -> None:
    app = sqlite_api.client.app
    assert isinstance(app, FastAPI)
    routes = {(method, context.path) for context in iter_route_contexts(app.routes)
              if (context.path or "").startswith("/api/v1/")
              for method in (context.methods or set()) - {"HEAD"}}
    assert len(routes) > 25
    assert routes == set(ROUTES)


def _expect_other(api: Api, key: str, method: str, request: Request, rule: str) -> None:
    path, kwargs = request
    before = dump_tables(str(api.ledger.config.database_url))
    response = _call(api, key, method, path, **kwargs)
    if rule == "batch":
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        assert result["problem"]["status"] == 404 and result["id"] is None, result
    elif rule in (NO, "forbidden-other"):
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden"
    elif rule == SCOPED:
        assert response.status_code == 404, (method, path, response.text)
    else:
        assert rule == OK
        assert response.status_code not in (401, 403, 404), (method, path, response.text)
        return
    assert _without_background(dump_tables(str(api.ledger.config.database_url))) \
        == _without_background(before), (method, path)


def _without_background(
    tables: dict[str, list[tuple[object, ...]]],
) -> dict[str, list[tuple[object, ...]]]:
    """The tables as a request could change them: the outreach sweep, which runs on its own
    clock in the app's lifespan, writes the default rules the first time it runs."""
    return {name: rows for name, rows in tables.items() if name != "outreach_rules"}


@pytest.mark.parametrize("kind", ["employer", "municipality"])
def test_every_route_with_a_scoped_key(api: Api, world: World, kind: str) -> None:
    key = world.employer_key if kind == "employer" else world.municipality_key
    column = 1 if kind == "employer" else 2
    for (method, _), row in ROUTES.items():
        build, rule = row[0](kind), str(row[column])
        _expect_other(api, key, method, build(world, False), rule)
    for (method, _), row in ROUTES.items():  # own records: past authorization
        build, rule = row[0](kind), str(row[column])
        if rule in (SCOPED, "batch", "forbidden-other"):
            path, kwargs = build(world, True)
            response = _call(api, key, method, path, **kwargs)
            assert response.status_code not in (401, 403, 404), (method, path, response.text)
            if rule == "batch":
                assert response.json()["results"][0]["problem"] is None, response.text


def test_what_each_key_sees(api: Api, world: World) -> None:
    """An employer sees the card check, not the balance; a municipality its own queue."""
    emp, mun = world.employer_key, world.municipality_key
    check = _call(api, emp, "GET", f"{V1}/cards/{world.card_a}/check").json()
    assert check == {"card_number": world.card_a, "active": True, "year": 2025,
                     "remaining": "42666.00", "cap_is_demo": False}
    report = _call(api, emp, "GET", f"{V1}/wage-reports/{world.report_a}").json()
    assert report["balance"] is None and report["remaining"] == "42666.00"
    assert _call(api, mun, "GET", f"{V1}/wage-reports/{world.report_a}").json()["balance"]
    queue = _call(api, mun, "GET", f"{V1}/escalations").json()
    assert [e["id"] for e in queue] == [world.esc_751]
    # A revoked key is a wrong key.
    [emp_row] = [k for k in api.ledger.api_keys.list() if k.kind == "employer"]
    api.ledger.api_keys.revoke(emp_row.id, actor=ADMIN)
    assert _call(api, emp, "GET", f"{V1}/caps").status_code == 401
    assert _call(api, emp[:-1] + ("A" if emp[-1] != "A" else "B"), "GET",
                 f"{V1}/caps").status_code == 401
    assert _call(api, mun[:-1] + ("A" if mun[-1] != "A" else "B"), "GET",
                 f"{V1}/caps").status_code == 401


def test_changes_name_the_key_in_the_audit_log(api: Api, world: World) -> None:
    response = _call(api, world.employer_key, "POST", f"{V1}/wage-reports/{world.report_a}/post")
    assert response.status_code == 200, response.text
    [emp_row] = [k for k in api.ledger.api_keys.list() if k.kind == "employer"]
    from tests.ledger.support import audit_rows
    rows = audit_rows(str(api.ledger.config.database_url))
    assert rows[-1]["action"] == "wage_report.post"
    assert rows[-1]["actor"] == f"api-key:{emp_row.id}"
    assert emp_row.last_used_at is not None


def test_every_request_names_its_key_in_the_access_log(sqlite_api: Api,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    made = sqlite_api.ledger.api_keys.create("municipality", "Aarhus", municipality_code="751",
                                             actor=ADMIN)
    with caplog.at_level("INFO", logger="api.access"):
        assert _call(sqlite_api, made.secret, "GET", f"{V1}/caps").status_code == 200
        assert _call(sqlite_api, made.secret, "GET", f"{V1}/outbox").status_code == 403
        assert sqlite_api.get(f"{V1}/caps").status_code == 200
    lines = [r for r in caplog.records if r.name == "api.access"]
    assert [getattr(r, "api_key_id", None) for r in lines] == [made.view.id, made.view.id,
                                                               "admin"]
    assert not any(made.secret in repr(vars(r)) for r in caplog.records)
