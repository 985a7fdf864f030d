"""Statements, transactions and connection checkouts per turn, by kind of message.

`python -m benchmarks.load.turn_statements [--turns N] [--show]`

Why beside the load harness: a sampling profile says where the CPU goes, not how many round
trips a turn makes, and each round trip is a wait for PostgreSQL plus driver, compile and
result work in the worker. This builds the app exactly as `frikort serve` does (the harness's
production settings on a fresh PostgreSQL database `frikort_load_turns`, seeded through the
harness's own population), sends signed webhooks in-process (Starlette's TestClient, no
lifespan: the outbox worker and the background jobs do not run, so only the webhook's own
statements are counted), and counts with SQLAlchemy's engine events:

- statements: `before_cursor_execute` (every SQL sent, SAVEPOINTs and locks included);
- transactions: `commit` and `rollback` on a connection;
- checkouts: a connection taken from the pool.

It also times each kind over `--turns` turns from distinct senders (process CPU time per turn:
the app's work plus the TestClient's, an upper bound of the worker's own), and the dialogue's
own share: `Dialogue.handle` called directly for the next `--turns` senders (no HTTP, no
TestClient; the store, the NLU, the turn and its reply, as the worker's thread runs them).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from api.app import create_app
from api.logging_setup import configure_logging
from api.settings import Settings
from benchmarks.load.providers import FakeProviders
from benchmarks.load.seed import Population, Sender, plan_population, seed_population
from benchmarks.load.traffic import NAMES
from benchmarks.load.server import BenchServer, ServerOptions
from benchmarks.load.wire import ProviderSecrets, Wire
from bot import InboundMessage

__all__ = ["Counts", "main"]

POSTGRES_URL = os.environ.get(
    "TURNS_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/frikort_load_turns")
FAQ = "hvor meget må jeg tjene"
SALDO = "SALDO"


@dataclass
class Counts:
    """What the engine events saw during one turn."""

    statements: int = 0
    commits: int = 0
    rollbacks: int = 0
    checkouts: int = 0
    sql: list[str] = field(default_factory=list)


class Counter_:
    """Engine-wide listeners (every engine the app makes), switched on around one turn."""

    def __init__(self) -> None:
        self.current: Counts | None = None
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)
        event.listen(Engine, "rollback", self._rollback)
        event.listen(Pool, "checkout", self._checkout)

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.current is not None:
            self.current.statements += 1
            self.current.sql.append(" ".join(statement.split())[:110])

    def _commit(self, conn: Any) -> None:
        if self.current is not None:
            self.current.commits += 1

    def _rollback(self, conn: Any) -> None:
        if self.current is not None:
            self.current.rollbacks += 1

    def _checkout(self, *args: Any) -> None:
        if self.current is not None:
            self.current.checkouts += 1

    @contextmanager
    def turn(self) -> Iterator[Counts]:
        self.current = Counts()
        try:
            yield self.current
        finally:
            self.current = None


@dataclass(frozen=True)
class Kind:
    """One kind of message, or a conversation of several (`texts`, in order; `{employee}`,
    `{postcode}` and `{name}` are the sender's own, as in traffic.yml)."""

    name: str
    senders: Callable[[Population], list[Sender]]
    texts: tuple[str, ...]
    last_reply: str | None = None
    """A fragment the last message's reply must hold (SMS: in the TwiML), so a conversation
    that went astray is not counted as the one named."""

    def messages(self, sender: Sender) -> list[str]:
        employee = sender.employees[0] if sender.employees else ""
        return [text.format(employee=employee, postcode=sender.postcode or "8000",
                            name=NAMES[sender.index % len(NAMES)]) for text in self.texts]


def _by(group: str, channel: str) -> Callable[[Population], list[Sender]]:
    return lambda p: [s for s in getattr(p, group) if s.channel == channel]


KINDS = (
    Kind("FAQ by SMS, card holder", _by("holders", "sms"), (FAQ,), "skattefrit"),
    Kind("FAQ by SMS, unknown number", _by("unknowns", "sms"), (FAQ,), "skattefrit"),
    Kind("SALDO by SMS, card holder", _by("holders", "sms"), (SALDO,), "Du har tjent"),
    Kind("FAQ by Telegram, card holder", _by("holders", "telegram"), (FAQ,)),
    Kind("SALDO by Telegram, card holder", _by("holders", "telegram"), (SALDO,)),
    Kind("JOB by SMS, card holder", _by("holders", "sms"), ("JOB",)),
    Kind("card check by SMS, employer", _by("employers", "sms"),
         ("er frikort {employee} gyldigt",), "er aktivt"),
    Kind("wage report in one by SMS, employer (2 messages)", _by("employers", "sms"),
         ("indberet 4 timer 520 kr frikort {employee}", "JA"), "er indberettet"),
    Kind("wage report step by step by SMS, employer (5 messages)", _by("employers", "sms"),
         ("jeg vil indberette løn", "{employee}", "520", "4", "JA"), "er indberettet"),
    Kind("application by SMS (10 messages)", _by("unknowns", "sms"),
         ("søg frikort", "{name}", "SENERE", "{postcode}", "kontanthjælp", "ja",
          "rengøring og lager", "sms", "nej", "ja"), "ansøgning er sendt til"),
)


def _send(client: TestClient, wire: Wire, sender: Sender, text: str) -> str:
    """The webhook's answer (SMS: the TwiML with the replies)."""
    if sender.channel == "telegram":
        path, body, headers = wire.telegram(sender.address, text)
    else:
        path, body, headers = wire.sms(sender.address, text)
    response = client.post(path, content=body, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
    if sender.channel == "telegram" and client.portal is not None:
        # The reply is sent beside the webhook's answer: counted with its own message.
        app = cast(FastAPI, client.app)
        client.portal.call(app.state.scheduler.wait_for_deliveries)
    return response.text


def _handle_cpu_ms(app: Any, kind: Kind, senders: list[Sender]) -> float:
    """CPU ms per `Dialogue.handle` call, for these senders' messages of this kind."""
    dialogue = app.state.services.dialogue
    started = time.process_time()
    for n, sender in enumerate(senders):
        for step, text in enumerate(kind.messages(sender)):
            inbound = InboundMessage(channel=sender.channel, sender=sender.address, text=text,
                                     provider_message_id=f"direct-{kind.name}-{n}-{step}")
            dialogue.handle(inbound, queue_replies=sender.channel == "telegram")
    return (time.process_time() - started) / (len(senders) * len(kind.texts)) * 1000


def _with_worker(app: Any, base_url: str, wire: Wire, counter: Counter_,
                 population: Population, turns: int) -> tuple[str, Counts, float]:
    """SMS FAQ turns with the app's lifespan running (the outbox worker and the background
    jobs, as in `frikort serve`): every statement of the process while they are answered, over
    the turns; what the worker does because of them (or of its poll) is in it."""
    senders = [s for s in population.holders if s.channel == "sms"][-turns:]
    with TestClient(app, base_url=base_url) as client:
        _send(client, wire, senders[0], FAQ)
        time.sleep(1.5)  # the worker's first round (jobs due at start) is not the turns'
        with counter.turn() as seen:
            started = time.process_time()
            for sender in senders[1:]:
                _send(client, wire, sender, FAQ)
            cpu_ms = (time.process_time() - started) / (len(senders) - 1) * 1000
    per_turn = Counts(statements=round(seen.statements / (len(senders) - 1)),
                      commits=round(seen.commits / (len(senders) - 1)),
                      checkouts=round(seen.checkouts / (len(senders) - 1)))
    return (f"FAQ by SMS with the outbox worker running ({seen.statements} statements, "
            f"{seen.commits} commits over {len(senders) - 1} turns)", per_turn, cpu_ms)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.turn_statements")
    parser.add_argument("--turns", type=int, default=40, help="timed turns per kind (40)")
    parser.add_argument("--show", action="store_true", help="print each statement")
    parser.add_argument("--nlu-cache", type=Path, default=Path("/tmp/nlucache-prof"))
    args = parser.parse_args(argv)
    provider = ProviderSecrets()
    with TemporaryDirectory(prefix="frikort-turns-") as workdir, _providers(provider) as url:
        server = BenchServer(ServerOptions(db="postgres", workers=1, workdir=Path(workdir),
                                           nlu_cache_dir=args.nlu_cache,
                                           postgres_url=POSTGRES_URL,
                                           rate_limit_per_minute=10_000),
                             provider, url)
        server.create_database()
        try:
            _measure(server, provider, args.turns, args.show, Path(workdir))
        finally:
            server.drop_database()


@contextmanager
def _providers(provider: ProviderSecrets) -> Iterator[str]:
    """The harness's fake Bot API and Twilio API on their own event loop in a thread (the
    Telegram webhook asks the Bot API for getMe once; the outbox does not run here)."""
    fakes = FakeProviders(bot_token=provider.bot_token, twilio_sid=provider.twilio_sid,
                          twilio_token=provider.twilio_token)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(fakes.start(), loop).result(timeout=30)
    try:
        yield fakes.url
    finally:
        asyncio.run_coroutine_threadsafe(fakes.stop(), loop).result(timeout=30)


def _measure(server: BenchServer, provider: ProviderSecrets, turns: int, show: bool,
             workdir: Path) -> None:
    settings = Settings(
        _env_file=None,
        **server.settings_env,  # type: ignore[arg-type]  # env strings, parsed by pydantic
    )
    population = plan_population(max(200, 40 * turns))
    seed_population(settings.ledger, population, dt.datetime.now(dt.UTC).date())
    configure_logging(settings)  # JSON at INFO, as the server logs; into a file, not stdout
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(workdir / "app.log", "a", encoding="utf-8"))  # noqa: SIM115
    wire = Wire(server.url, provider)
    counter = Counter_()
    # The webhooks' own work: the app's event loop running (a Telegram reply is sent from
    # it), without the background worker, so only what a message causes is counted.
    quiet = settings.model_copy(update={"RUN_BACKGROUND_WORKER": False})
    app = create_app(quiet)
    with TestClient(app, base_url=server.url) as client:
        rows = [_kind_row(client, app, wire, counter, kind, population, turns, show)
                for kind in KINDS]
    # What the worker does for a message queued to it (a notice to a card holder; a Telegram
    # reply only when an older message to the chat waits): claim it, send it, mark it sent.
    ledger = app.state.services.ledger
    with counter.turn() as claim:
        items = ledger.conversations.claim_outbox(1, ("telegram",))
    with counter.turn() as mark:
        ledger.conversations.mark_sent(items[0].id, "load-1")
    for name, counts in (("outbox worker: claim of one queued message", claim),
                         ("outbox worker: mark_sent of that message", mark)):
        rows.append((name, [counts], float("nan"), float("nan")))
        if show:
            print(f"\n{name}:")
            for line, n in Counter(counts.sql).items():
                print(f"  {n}× {line}")
    name, per_turn, cpu_ms = _with_worker(create_app(settings), server.url, wire, counter,
                                          population, turns)
    rows.append((name, [per_turn], cpu_ms, float("nan")))
    print("| Turn | Statements per message | Transactions (commits + rollbacks) "
          "| Pool checkouts | CPU ms per message, in-process | of which Dialogue.handle |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, steps, cpu_ms, handle_ms in rows:
        print(f"| {name} | {_each(steps, lambda c: c.statements)} | "
              f"{_each(steps, lambda c: c.commits + c.rollbacks)} | "
              f"{_each(steps, lambda c: c.checkouts)} | {cpu_ms:.1f} | {handle_ms:.2f} |")


def _kind_row(client: TestClient, app: Any, wire: Wire, counter: Counter_, kind: Kind,
              population: Population, turns: int,
              show: bool) -> tuple[str, list[Counts], float, float]:
    """One kind: warmed by one sender, counted on the next, timed over `turns` more."""
    senders = kind.senders(population)
    for text in kind.messages(senders[0]):
        _send(client, wire, senders[0], text)  # warm: caches, compiled statements
    steps = _counted(client, wire, counter, kind, senders[1])
    timed = senders[2:2 + turns]
    started = time.process_time()
    for sender in timed:
        for text in kind.messages(sender):
            _send(client, wire, sender, text)
    cpu_ms = (time.process_time() - started) / (len(timed) * len(kind.texts)) * 1000
    handle_ms = _handle_cpu_ms(app, kind, senders[2 + turns:2 + 2 * turns])
    if show:
        for step, counts in enumerate(steps, start=1):
            print(f"\n{kind.name}, message {step}:")
            for line, n in Counter(counts.sql).items():
                print(f"  {n}× {line}")
    return kind.name, steps, cpu_ms, handle_ms


def _counted(client: TestClient, wire: Wire, counter: Counter_, kind: Kind,
             sender: Sender) -> list[Counts]:
    """One sender's messages of this kind, each counted; a single message is sent twice
    (a sender's first message, then the same in its open conversation)."""
    texts = kind.messages(sender) * (2 if len(kind.texts) == 1 else 1)
    steps = []
    answer = ""
    for text in texts:
        with counter.turn() as seen:
            answer = _send(client, wire, sender, text)
        steps.append(seen)
    if kind.last_reply is not None and kind.last_reply not in answer:
        raise RuntimeError(f"{kind.name}: the last reply lacks {kind.last_reply!r}: {answer}")
    return steps


def _each(steps: list[Counts], value: Callable[[Counts], int]) -> str:
    return " / ".join(str(value(counts)) for counts in steps)


if __name__ == "__main__":
    main()
