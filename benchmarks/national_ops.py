"""The operations the national benchmark times, on a generated data set.

* balance reply: a linked card holder writes SALDO; `Dialogue.handle` as the webhooks call it
  (store, NLU, turn under the conversation lock, reply), built as api/bootstrap.py builds it;
* card check (bot): a verified employer's phone writes "tjek kort NNNNN";
* card check (REST): `GET /api/v1/cards/{number}` with the admin key;
* export: `GET /api/v1/exports/wage-reports` for one municipality and year, streamed: time to
  the first and to the last byte, and the bytes;
* overview: `GET /console/overview` for a caseworker (own municipality) and an administrator
  (every municipality), each logged in through the real form;
* expiry sweep: `Ledger.expire_due`, which the background loop of every server process runs
  once a minute (api/scheduler.py); it finds nothing due here, so this is its search alone.

The HTTP calls go through a real uvicorn server in a thread on a loopback port (so the export
really streams), from an httpx client in the same process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
import re
import socket
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from api.app import create_app
from api.bootstrap import Backend
from api.settings import DEV_ADMIN_API_KEY, Settings
from bot import Dialogue, InboundMessage
from db.commands import Actor
from db.config import StaffConfig
from nlu import Parser
from sampledata import Samples

CHEAP_ARGON2 = StaffConfig(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
"""Console passwords hashed cheaply (as the tests do): only the login costs it."""
PASSWORD = "national-bench-1234"
AUTH = {"Authorization": f"Bearer {DEV_ADMIN_API_KEY}"}
SWEEP_ACTOR = Actor(name="system:maintenance", channel="system")
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass(frozen=True)
class Counts:
    """Samples per operation."""

    balance: int = 300
    card_check: int = 300
    export: int = 30
    overview: int = 100
    sweep: int = 5


@dataclass(frozen=True)
class OpResult:
    name: str
    samples_ms: tuple[float, ...]
    failures: int = 0
    note: str = ""

    def percentiles(self) -> tuple[float, float, float]:
        """p50, p95, p99 in ms (inclusive method; a single sample is all three)."""
        values = sorted(self.samples_ms)
        if len(values) < 2:
            return (values[0],) * 3 if values else (float("nan"),) * 3
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        return cuts[49], cuts[94], cuts[98]


def settings_for(url: str) -> Settings:
    """Development settings on `url`, with no background loop or NLU warm-up thread."""
    return Settings(_env_file=None, DATABASE_URL=url,
                    RUN_BACKGROUND_WORKER=False, WARM_NLU_AT_START=False, LOG_LEVEL="WARNING")


@contextmanager
def live_app(url: str, parser: Parser | None = None) -> Iterator[tuple[Backend, Dialogue, str]]:
    """The app on `url` served on a free loopback port: (its ledger, its dialogue, base URL)."""
    settings = settings_for(url)
    ledger = Backend(dataclasses.replace(settings.ledger, staff=CHEAP_ARGON2))
    app = create_app(settings, ledger=ledger, parser=parser)
    services = app.state.services
    warm = getattr(services.parser, "warm", None)
    if warm is not None:
        warm()  # train or load the NLU model now, not inside the first timed message
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                           access_log=False, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.01)
        yield ledger, services.dialogue, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        ledger.close()


def _timed(call: Callable[[], bool]) -> tuple[float, bool]:
    started = time.perf_counter()
    ok = call()
    return (time.perf_counter() - started) * 1000, ok


def _page_ok(client: httpx.Client, path: str) -> bool:
    return client.get(path).status_code == 200


def _run(name: str, calls: Sequence[Callable[[], bool]], note: str = "") -> OpResult:
    times, failures = [], 0
    for call in calls:
        ms, ok = _timed(call)
        times.append(ms)
        failures += 0 if ok else 1
    return OpResult(name, tuple(times), failures, note)


def balance_replies(dialogue: Dialogue, samples: Samples, n: int, rng: random.Random,
                    tag: str) -> OpResult:
    """Distinct holders where there are enough (the rate limit counts per sender)."""
    holders = list(samples.linked_holders)
    chosen = rng.sample(holders, n) if n <= len(holders) else [rng.choice(holders)
                                                               for _ in range(n)]

    def call(index: int, phone: str, number: str) -> Callable[[], bool]:
        def run() -> bool:
            replies = dialogue.handle(InboundMessage(
                channel="sms", sender=phone, text="SALDO",
                provider_message_id=f"{tag}-saldo-{index}",
                received_at=dt.datetime.now(dt.UTC)))
            return len(replies) == 1 and f"Frikort {number}" in replies[0].text
        return run

    return _run("balance reply (bot, SALDO)",
                [call(i, phone, number) for i, (phone, number) in enumerate(chosen)])


def card_checks_bot(dialogue: Dialogue, samples: Samples, n: int, rng: random.Random,
                    tag: str) -> OpResult:
    def call(index: int) -> Callable[[], bool]:
        phone, _ = rng.choice(samples.employer_contacts)
        number = rng.choice(samples.card_numbers)

        def run() -> bool:
            replies = dialogue.handle(InboundMessage(
                channel="sms", sender=phone, text=f"tjek kort {number}",
                provider_message_id=f"{tag}-check-{index}", received_at=dt.datetime.now(dt.UTC)))
            return bool(replies) and number in replies[0].text
        return run

    return _run("card check (bot, employer)", [call(i) for i in range(n)])


def card_checks_rest(http: httpx.Client, samples: Samples, n: int,
                     rng: random.Random) -> OpResult:
    def call(number: str) -> Callable[[], bool]:
        return lambda: http.get(f"/api/v1/cards/{number}", headers=AUTH).status_code == 200
    return _run("card check (REST GET /cards/{n})",
                [call(rng.choice(samples.card_numbers)) for _ in range(n)])


@dataclass
class _Streamed:
    first_ms: float = 0.0
    total_ms: float = 0.0
    size: int = 0
    rows: int = 0


def _export(http: httpx.Client, code: str, year: int) -> _Streamed:
    found = _Streamed()
    started = time.perf_counter()
    with http.stream("GET", "/api/v1/exports/wage-reports", headers=AUTH,
                     params={"municipality": code, "year": year, "format": "csv"}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"export answered {response.status_code}")
        for chunk in response.iter_bytes():
            if not found.size:
                found.first_ms = (time.perf_counter() - started) * 1000
            found.size += len(chunk)
            found.rows += chunk.count(b"\n")
    found.total_ms = (time.perf_counter() - started) * 1000
    found.rows -= 1  # the header line
    return found


def exports(http: httpx.Client, samples: Samples, n: int, rng: random.Random,
            year: int) -> list[OpResult]:
    """Random municipalities, the largest one, and the whole year (every municipality once)."""
    codes = [code for code, _ in samples.municipalities]
    random_runs = [_export(http, rng.choice(codes), year) for _ in range(n)]
    largest = [_export(http, codes[0], year) for _ in range(min(n, 5))]
    whole = [_export(http, code, year) for code in codes]
    whole_ms = sum(s.total_ms for s in whole)
    results = []
    for name, runs in ((f"export {year}, random municipality", random_runs),
                       (f"export {year}, largest ({codes[0]})", largest)):
        first = statistics.median(r.first_ms for r in runs)
        note = (f"{statistics.median(r.rows for r in runs):.0f} rows, "
                f"{statistics.median(r.size for r in runs) / 1e6:.2f} MB, first byte "
                f"{first:.0f} ms (medians)")
        results.append(OpResult(name, tuple(r.total_ms for r in runs), 0, note))
    results.append(OpResult(
        f"export {year}, all {len(codes)} municipalities", (whole_ms,), 0,
        f"{sum(s.rows for s in whole)} rows, {sum(s.size for s in whole) / 1e6:.1f} MB in "
        f"total, one pass"))
    return results


def export_memory(http: httpx.Client, samples: Samples, year: int) -> str:
    """Peak Python memory (server and client, traced) while the largest export streams."""
    code = samples.municipalities[0][0]
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        streamed = _export(http, code, year)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return (f"largest export ({code}, {year}): {streamed.size / 1e6:.2f} MB streamed, "
            f"peak traced Python memory {peak / 1e6:.2f} MB")


def logged_in(base_url: str, ledger: Backend, username: str, role: str,
              municipality: str | None) -> httpx.Client:
    """A new console user, and a client logged in through the real form."""
    ledger.staff.add_user(username, PASSWORD, role, municipality, username)
    client = httpx.Client(base_url=base_url, timeout=600)
    page = client.get("/console/login")
    match = _CSRF.search(page.text)
    if match is None:
        raise RuntimeError("no CSRF token on the login page")
    response = client.post("/console/login", data={
        "username": username, "password": PASSWORD, "csrf_token": match.group(1), "next": ""})
    if response.status_code != 303:
        raise RuntimeError(f"login refused: {response.status_code}")
    return client


def expiry_sweeps(ledger: Backend, n: int) -> OpResult:
    return _run("expiry sweep (background, every 60 s)",
                [lambda: ledger.expire_due(actor=SWEEP_ACTOR) >= 0 for _ in range(n)])


def overviews(base_url: str, ledger: Backend, samples: Samples, n: int,
              tag: str) -> list[OpResult]:
    code = samples.municipalities[0][0]
    results = []
    for who, role, municipality in ((f"sagsbehandler ({code})", "caseworker", code),
                                    ("admin (all)", "admin", None)):
        client = logged_in(base_url, ledger, f"bench-{tag}-{role}", role, municipality)
        try:
            overview: Callable[[], bool] = functools.partial(_page_ok, client, "/console/overview")
            calls = [overview] * n
            results.append(_run(f"console overview, {who}", calls))
        finally:
            client.close()
    return results
