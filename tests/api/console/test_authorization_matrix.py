"""The console's whole authorisation matrix, generated from the routes the app really serves.

For EVERY route under /console (login and static files aside), with records of municipality
A (751) and B (101) built through the real services:

    anonymous                         GET: 303 to the login page; POST: 401/403, also with a
                                      valid anonymous CSRF token (it is the login that refuses)
    a role the area does not allow    403 "Ingen adgang", for A's and B's records alike
    another municipality's record     404 (direct URL guessing), with a valid CSRF token and a
                                      valid form, so it is the scope check that refuses
    no CSRF token                     403 on every POST, for a user who may use the route
    the right user                    GET 200; POST 200 or 303 (each allowed user acts on
                                      records of their own, so no action is spent twice)

Refusals must leave every table unchanged, and no page a caseworker or consultant gets may
name the other municipality's card holders or applicants.

The expectations are tables below (AREAS: who may use a part of the console; PARAM_KINDS:
what a path parameter names; FORM_VALUES: what to type into each form field). A route in an
unknown area, with an unknown path parameter or an unknown form field fails loudly, so a new
route cannot slip through unchecked: classify it here. The test ids name the routes covered
(`pytest --collect-only -q tests/api/console/test_authorization_matrix.py`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger import CreateEmployment, DeactivateCard, IssueCard, RegisterEmployer, VerifyEmployer
from smalljobs.commands import PostTask
from staff import StaffPrincipal
from tests import databases
from tests.api.console.conftest import (
    MUNICIPALITY_A,
    MUNICIPALITY_B,
    PASSWORD,
    USERS,
    ConsoleEnv,
    build_env,
    env_on_copy,
    csrf_token,
    login,
)
from tests.ledger.casework_support import World
from tests.ledger.support import ADMIN, dump_tables, fresh_cpr, valid_cvr, wage

CASE = frozenset({"caseworker", "admin"})
EVERYONE = frozenset({"caseworker", "employer_consultant", "admin"})
"""The municipality's own staff; a helper (værested staff, issue 6) is not one of them."""
ADMIN_ONLY = frozenset({"admin"})
WITH_HELPERS = EVERYONE | {"helper"}
HELPERS = frozenset({"helper", "admin"})
AREAS: dict[str, frozenset[str]] = {
    "/console": WITH_HELPERS,  # the front page and logging out
    "/console/inbox": EVERYONE,
    "/console/applications": CASE,
    "/console/cards": CASE,
    "/console/reports": CASE,
    "/console/employers": EVERYONE,
    "/console/overview": EVERYONE,
    "/console/caps": ADMIN_ONLY,
    "/console/users": ADMIN_ONLY,
    "/console/api-keys": ADMIN_ONLY,
    # small jobs (issue 6)
    "/console/tasks": WITH_HELPERS,
    "/console/tasks/{task_id}/cancel": EVERYONE,
    "/console/tasks/{task_id}/sign-up": HELPERS,
    "/console/phone-list": HELPERS,
    # announcements (issue 16)
    "/console/messages": CASE,
}
"""Who may use each part of the console (issues 5 and 6): the longest matching prefix decides,
unless ROUTE_AREAS names the route itself."""
ROUTE_AREAS: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/console/tasks"): EVERYONE,  # a helper sees tasks but does not post them
}
EXEMPT = {("GET", "/console/login"), ("POST", "/console/login")}
"""Public by design (tests/api/console/test_auth.py covers the login form)."""
ANONYMOUS_WITH_TOKEN_OK = {("POST", "/console/logout")}
"""Logging out with an anonymous session's own token only empties that session: harmless,
so it answers 303 to the login page. Without the token it is refused like every POST."""
PARAM_KINDS = {"number": "card", "contact_id": "contact", "report_id": "report",
               "application_id": "application", "escalation_id": "escalation",
               "cvr": "employer", "user_id": "user", "task_id": "task",
               "entry_id": "phone_entry", "key_id": "api_key"}
SCOPED = {"card", "contact", "report", "application", "escalation", "task", "phone_entry"}
"""Records of one municipality: another municipality's user gets 404. Employers belong to no
municipality (every role sees all of them; what they show of card holders is scoped, which
the leak check below covers); staff users are an administrator's alone. A task belongs to
the municipality of its postcode; a phone-list entry to the user who keeps the list."""
OTHER_MUNICIPALITY = "461"  # Odense: a transfer target that is neither A nor B
Value = str | Callable[["Records"], str]
FORM_VALUES: dict[str, Value] = {
    # cards and reports
    "q": "Matrixsen", "reason": "Kontrol i matrix-testen", "bekraeftet": "ja", "tilbage": "",
    "note": "Notat fra matrix-testen", "municipality_code": OTHER_MUNICIPALITY,
    "channel": "phone", "address": lambda r: f"+454050{6100 + r.index}",
    "cvr": lambda r: r.employer, "amount": "100,00", "hours": "2", "paid_on": "16.06.2025",
    "key": lambda r: f"matrix{r.index}", "card": lambda r: r.card,
    # employers, inbox, applications
    "cvr_tjekket": "ja", "text": "Hej fra matrix-testen", "valid_from": "", "cpr": "",
    "step": "send",
    # caps and users
    "year": "2026", "source_url": "https://www.sm.dk/satser", "source_note": "",
    "username": lambda r: f"matrix{r.index}", "display_name": "Matrix Bruger",
    "role": "caseworker", "password": "matrix-adgang-123", "password_again": "matrix-adgang-123",
    # tasks and phone lists (issue 6)
    "title": "Havearbejde", "description": "Slå græs", "place": "Baghaven",
    "postcode": "8000", "window_start": "20.06.2025", "window_end": "27.06.2025",
    "pay_per_hour": "150", "places": "1", "audience": "open", "fornavn": "Holder",
    "samtykke": "ja",
    # announcements (issue 16)
    "modtagere": "active",
    # API keys
    "name": "Matrix-nøgle", "kind": "employer",
}
"""One value per form field name, valid for every form that has the field."""
ROUTE_FORM_VALUES: dict[tuple[str, str], dict[str, Value]] = {
    ("POST", "/console/applications/{application_id}/approve"): {"municipality_code": ""},
    ("POST", "/console/users"): {"municipality_code": MUNICIPALITY_A},
    ("POST", "/console/phone-list"): {"card": lambda r: r.spare_card},
}
"""Where a form needs another value than FORM_VALUES (an application filed under a
municipality is approved without choosing one)."""
QUERY_VALUES: dict[str, str] = {"after": "0", "status": "all", "q": "Matrixsen", "year": "2025",
                                "municipality": "", "next": ""}
HOME = {"caseworker_a": "A", "caseworker_b": "B", "consultant": "A", "admin": None,
        "helper_a": "A"}
ROLE = {name: role for name, (role, _, _) in USERS.items()}


@dataclass(frozen=True)
class Records:
    """One set of records in one municipality, acted on by one user only."""

    index: int
    side: str
    card: str
    contact: str
    report: str
    application: str
    escalation: str
    employer: str
    user: str
    markers: tuple[str, ...]
    """Names of this set's card holder and applicant: must never reach the other side."""
    task: str = ""
    """An open task (one place) of the side's employer in the side's municipality."""
    phone_entry: str = ""
    """The card on a phone list: the acting user's own if they keep one, else admin's."""
    spare_card: str = ""
    """A card on nobody's phone list, holder's first name "Holder"."""
    api_key: str = ""
    """The id of an API key of the side's employer (keys are an administrator's alone)."""

    def value(self, kind: str) -> str:
        return str(getattr(self, kind))


@dataclass
class Matrix:
    env: ConsoleEnv
    records: dict[tuple[str, str], Records]
    """(side, who acts on them) -> records; refusals use the side's first set."""
    clients: dict[str, TestClient] = field(default_factory=dict)

    def of(self, side: str) -> Records:
        return next(r for (s, _), r in self.records.items() if s == side)

    def markers(self, side: str) -> set[str]:
        return {m for (s, _), r in self.records.items() if s == side for m in r.markers}


# The routes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    params: tuple[str, ...]
    form: tuple[str, ...]
    required_query: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def console_routes(app: FastAPI) -> list[Route]:
    """Every method of every route under /console the app serves, however it is included."""
    found = []
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if not (path == "/console" or path.startswith("/console/")) or not context.methods:
            continue
        dependant = context.dependant
        for method in sorted(context.methods - {"HEAD"}):
            if (method, path) in EXEMPT:
                continue
            found.append(Route(
                method, path, tuple(p.name for p in dependant.path_params),
                tuple(p.alias for p in dependant.body_params),
                tuple(q.alias for q in dependant.query_params if q.field_info.is_required())))
    return found


def _app() -> FastAPI:
    """The app only to list its routes (no database is opened)."""
    unused = Path(tempfile.gettempdir()) / "frikort-route-listing.db"
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite:///{unused}",
                        RUN_BACKGROUND_WORKER=False, WARM_NLU_AT_START=False)
    return create_app(settings)


ROUTES = console_routes(_app())


def area(route: Route) -> frozenset[str]:
    if (route.method, route.path) in ROUTE_AREAS:
        return ROUTE_AREAS[(route.method, route.path)]
    prefixes = [p for p in AREAS if route.path == p or route.path.startswith(p + "/")]
    if route.path.startswith("/console/") and prefixes == ["/console"] \
            and route.path != "/console/logout":
        pytest.fail(f"{route.id}: add its area to AREAS in {__name__} (who may use it?)")
    return AREAS[max(prefixes, key=len)]


def classify(route: Route) -> list[str]:
    kinds = []
    for param in route.params:
        if param not in PARAM_KINDS:
            pytest.fail(f"{route.id}: path parameter {{{param}}} is not in PARAM_KINDS")
        kinds.append(PARAM_KINDS[param])
    for name in route.form:
        if name not in FORM_VALUES and name not in ROUTE_FORM_VALUES.get(
                (route.method, route.path), {}):
            pytest.fail(f"{route.id}: form field {name!r} has no value in FORM_VALUES")
    for name in route.required_query:
        if name not in QUERY_VALUES:
            pytest.fail(f"{route.id}: required query parameter {name!r} is not in QUERY_VALUES")
    return kinds


def url(route: Route, records: Records | None) -> str:
    path = route.path
    for param in route.params:
        assert records is not None
        path = path.replace(f"{{{param}}}", records.value(PARAM_KINDS[param]))
    query = "&".join(f"{name}={QUERY_VALUES[name]}" for name in route.required_query)
    return f"{path}?{query}" if query else path


def form(route: Route, records: Records | None) -> dict[str, str]:
    chosen = {**FORM_VALUES, **ROUTE_FORM_VALUES.get((route.method, route.path), {})}
    values = {}
    for name in route.form:
        value = chosen[name]
        if callable(value):
            assert records is not None, f"{route.id}: {name} needs records"
            value = value(records)
        values[name] = value
    return values


# The world -----------------------------------------------------------------------------------


SLOTS = (("A", "caseworker_a"), ("A", "consultant"), ("A", "admin"), ("A", "helper_a"),
         ("B", "caseworker_b"), ("B", "admin"))
POSTCODES = {"A": "8000", "B": "1050"}
"""A postcode in each side's municipality, for its tasks."""


def build(env: ConsoleEnv) -> Matrix:
    """Per slot: a card with a phone and a posted report, an application with a CPR number,
    an escalation from the card holder's phone, a spare staff user, an open task, the card on
    a phone list and a spare card; one employer per municipality employs its card holders and
    posts their tasks."""
    ledger = env.ledger
    employers = {}
    for seed, (side, code) in enumerate((("A", MUNICIPALITY_A), ("B", MUNICIPALITY_B)), 60):
        cvr = valid_cvr(seed)
        ledger.register_employer(RegisterEmployer(cvr=cvr, name=f"Matrix {side} ApS"),
                                 actor=ADMIN)
        ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
        employers[side] = (cvr, code)
    world = World(url=env.url, ledger=ledger, clock=env.clock, cvr=employers["A"][0],
                  jens="", mette="", jens_cpr="")
    admin = env.users["admin"]
    records = {}
    for index, (side, who) in enumerate(SLOTS):
        cvr, code = employers[side]
        holder, applicant = f"Holder {side}{index} Matrixsen", f"Ansøger {side}{index} Matrixsen"
        phone = f"+452130{5100 + index}"
        number = ledger.issue_card(IssueCard(
            cpr=fresh_cpr(), name=holder, municipality_code=code,
            valid_from=env.clock.now.date().replace(month=1, day=1), phone=phone),
            actor=ADMIN).number
        ledger.create_employment(CreateEmployment(
            employer_cvr=cvr, card_number=number, start_date=env.clock.now.date().replace(
                month=1, day=1), weekly_hours=Decimal(5)), actor=ADMIN)
        report = ledger.report_wage(wage(cvr, number, 250_00, f"m{index}", post=True),
                                    actor=ADMIN).id
        application = world.apply("sms", f"+455162{8100 + index}", name=applicant,
                                  cpr=fresh_cpr(), municipality=code)
        escalation = world.escalate("sms", phone, text=f"Hjælp til {holder}")
        contact = ledger.casework.card(admin, number).contacts[0].id
        user = ledger.staff.add_user(f"spare{index}", PASSWORD, "caseworker", code,
                                     f"Reserve {side}{index}").id
        task, entry, spare, spare_holder = _task_records(env, side, who, index, number, cvr)
        api_key = ledger.api_keys.create("employer", f"Matrix {index}", employer_cvr=cvr,
                                         actor=ADMIN).view.id
        records[(side, who)] = Records(index, side, number, str(contact), str(report),
                                       str(application), str(escalation), cvr, str(user),
                                       (holder, applicant, spare_holder), task=task,
                                       phone_entry=entry, spare_card=spare,
                                       api_key=str(api_key))
    return Matrix(env, records)


def _task_records(env: ConsoleEnv, side: str, who: str, index: int, number: str,
                  cvr: str) -> tuple[str, str, str, str]:
    """(task id, phone-list entry id, spare card number, spare holder's name) of one slot."""
    ledger = env.ledger
    start = env.clock.now.date() + timedelta(days=2)
    task = ledger.tasks.post_task(PostTask(
        employer_cvr=cvr, title=f"Matrixopgave {side}{index}", postcode=POSTCODES[side],
        window_start=start, window_end=start + timedelta(days=5),
        expected_hours=Decimal(3), pay_per_hour_ore=150_00), actor=ADMIN).id
    keeper = who if ROLE[who] in HELPERS else "admin"
    entry = ledger.tasks.add_to_phone_list(env.users[keeper], number,
                                           "Borgeren har sagt ja i matrix-testen.").id
    spare_holder = f"Holder {side}{index} Reservesen"
    spare = ledger.issue_card(IssueCard(
        cpr=fresh_cpr(), name=spare_holder,
        municipality_code=MUNICIPALITY_A if side == "A" else MUNICIPALITY_B,
        valid_from=env.clock.now.date().replace(month=1, day=1)), actor=ADMIN).number
    return str(task), str(entry), spare, spare_holder


PREPARE: dict[tuple[str, str], Callable[[Matrix], None]] = {}
"""Route-specific preparation so that the allowed users' actions can succeed."""


def _deactivate_all(matrix: Matrix) -> None:
    for records in matrix.records.values():
        matrix.env.ledger.deactivate_card(DeactivateCard(number=records.card, reason="test"),
                                          actor=ADMIN)


PREPARE[("POST", "/console/cards/{number}/reactivate")] = _deactivate_all


# The checks ----------------------------------------------------------------------------------


def send(client: TestClient, route: Route, records: Records | None, *,
         token: str | None) -> httpx.Response:
    target = url(route, records)
    if route.method == "GET":
        return client.get(target)
    data = form(route, records)
    if token is not None:
        data["csrf_token"] = token
    return client.request(route.method, target, data=data)


def expect_refusal(response: httpx.Response, status: int, words: str, what: str) -> None:
    assert response.status_code == status, (what, response.status_code, response.text[:300])
    assert words in response.text, (what, words)


def no_leak(matrix: Matrix, who: str, response: httpx.Response, what: str) -> None:
    home = HOME[who]
    if home is None:
        return
    other = "B" if home == "A" else "A"
    for marker in matrix.markers(other):
        assert marker not in response.text, f"{what}: {who} sees {marker!r}"


def check_route(matrix: Matrix, route: Route) -> None:
    env = matrix.env
    kinds = classify(route)
    allowed = area(route)
    scoped = bool(SCOPED & set(kinds))
    sides: list[str | None] = ["A", "B"] if kinds else [None]

    def records_for(side: str | None, who: str | None = None) -> Records | None:
        if side is None:
            return matrix.records[("A", "admin")] if route.form else None
        return matrix.records.get((side, who or "")) or matrix.of(side)

    # 1. Refusals, which must change nothing.
    before = dump_tables(env.url)
    anonymous = env.new_client()
    for side in sides:
        records = records_for(side)
        what = f"{route.id} anonymous {side}"
        if route.method == "GET":
            response = send(anonymous, route, records, token=None)
            assert response.status_code == 303, what
            assert response.headers["location"].startswith("/console/login?next="), what
        else:
            assert send(anonymous, route, records, token=None).status_code in (401, 403), what
            response = send(anonymous, route, records, token=csrf_token(anonymous))
            if (route.method, route.path) in ANONYMOUS_WITH_TOKEN_OK:
                assert response.headers["location"] == "/console/login", what
            else:
                expect_refusal(response, 401, "Log ind først", what)
    for who, client in matrix.clients.items():
        for side in sides:
            records = records_for(side)
            what = f"{route.id} {who} on {side}"
            token = csrf_token(client)
            if ROLE[who] not in allowed:
                expect_refusal(send(client, route, records, token=token), 403, "Ingen adgang",
                               what)
            elif scoped and HOME[who] not in (None, side):
                expect_refusal(send(client, route, records, token=token), 404,
                               "Siden findes ikke", what)
            if route.method != "GET" and ROLE[who] in allowed:
                expect_refusal(send(client, route, records, token=None), 403,
                               "Formularen er udløbet", f"{what} without CSRF")
    assert dump_tables(env.url) == before, f"{route.id}: a refusal changed something"

    # 2. The users who may: each on records of their own.
    for who, client in matrix.clients.items():
        if ROLE[who] not in allowed:
            continue
        for side in sides:
            if scoped and HOME[who] not in (None, side):
                continue
            records = records_for(side, who)
            what = f"{route.id} {who} on {side}"
            response = send(client, route, records, token=csrf_token(client))
            ok = (200,) if route.method == "GET" else (200, 303)
            assert response.status_code in ok, (what, response.status_code,
                                                re.sub(r"\s+", " ", response.text)[-1500:])
            no_leak(matrix, who, response, what)
            if route.path == "/console/logout":
                login(client, who)


@dataclass(frozen=True)
class WorldFacts:
    """What a test needs to know about its copy of the matrix's world."""

    users: dict[str, StaffPrincipal]
    records: dict[tuple[str, str], Records]
    now: datetime


def _build_world(url: str) -> WorldFacts:
    """Fills a template once per process and backend: building the world through the real
    services is most of a route's cost, and every route gets a copy of the same world."""
    facts = None
    for env in build_env(url):  # to its end: the app and the ledger are closed before the copy
        built = build(env)
        facts = WorldFacts(users=env.users, records=built.records, now=env.clock.now)
    assert facts is not None
    return facts


WORLD = databases.built(_build_world)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def matrix(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Matrix]:
    for url, facts in env_on_copy(request, tmp_path, WORLD):
        assert isinstance(facts, WorldFacts)
        for env in build_env(url, users=facts.users, now=facts.now):
            world = Matrix(env, dict(facts.records))
            world.clients = {who: login(env.new_client(), who) for who in HOME}
            yield world


def test_the_matrix_sees_the_console() -> None:
    """Self-check: a route walker that finds nothing would pass everything below."""
    ids = {route.id for route in ROUTES}
    assert {"GET /console", "POST /console/logout", "GET /console/overview",
            "POST /console/caps", "POST /console/users/{user_id}/deactivate",
            "GET /console/tasks/{task_id}", "POST /console/tasks/{task_id}/sign-up",
            "POST /console/phone-list/{entry_id}/remove"} <= ids
    assert all(route.path.startswith("/console") for route in ROUTES)
    assert not {("GET", "/console/login"), ("POST", "/console/login")} & {
        (r.method, r.path) for r in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=[route.id for route in ROUTES])
def test_route(matrix: Matrix, route: Route) -> None:
    prepare = PREPARE.get((route.method, route.path))
    if prepare is not None:
        prepare(matrix)
    check_route(matrix, route)


def test_every_route_is_classified() -> None:
    """One place that names every route the tables above do not know yet."""
    unknown = [route.id for route in ROUTES if not _classifiable(route)]
    assert unknown == []


def _classifiable(route: Route) -> bool:
    try:
        classify(route)
        area(route)
    except pytest.fail.Exception:
        return False
    return True
