"""Prometheus metrics: GET /metrics, the request middleware, and the counters behind them.

Each app has its own `CollectorRegistry` (tests and several apps in one process do not
collide). Counters are fed by the dialogue's and the ledger's observers and by the outbox
worker; the queue gauges (escalations waiting, the outbox backlog and their ages) are read
from the database at scrape time, with two small indexed queries.

With several uvicorn workers each process counts on its own, and a scrape sees only the
worker that answered it, unless PROMETHEUS_MULTIPROC_DIR is set (see the README): then
prometheus_client keeps every worker's counters in files there and a scrape adds them up.

Metric names (all prefixed `frikort_`):

    messages_in_total{channel}                 new inbound messages (SMS, Telegram, web demo)
    messages_duplicate_total{channel}          provider retries recognised and answered again
    messages_out_total{channel,via}            via="reply" (in the webhook's answer) or "outbox"
    http_request_duration_seconds{method,route,status}   histogram, by route template
    nlu_parses_total{channel}, nlu_fallbacks_total{channel}, nlu_intents_total{intent}
    answers_total{answer}                      what people got, by answer id (docs/answers.md):
                                               "faq_tax/general", "balance", "crisis", "fallback"
    turn_failures_total{channel}               messages whose handling raised; the person got
                                               the short safe reply instead
    ledger_commands_total{command,outcome}     outcome: ok, replayed, refused
    ledger_postings_total{status}              wage reports reaching a state (posted, pending,
                                               awaiting_cap, voided, reversed, expired)
    ledger_refusals_total{command,code}        refusals by their stable error code
    outbox_deliveries_total{channel,outcome}   sent, retry, dead
    task_actions_total{action,by}              small jobs: posted, places taken, confirmed,
                                               cancelled, no-shows, released, digests sent...
    retention_anonymised_total{kind}           rows the scheduled retention job anonymised
    escalations_waiting{urgent}, escalations_taken, escalation_oldest_waiting_age_seconds
    outbox_messages{status}, outbox_oldest_pending_age_seconds     (pending, dead)
    metrics_database_up                        0 when the scrape-time queries failed
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.datastructures import MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import logging_setup
from api.bootstrap import Backend
from api.problems import problem
from api.settings import Settings
from bot import InboundMessage, Reply
from bot.observe import DialogueObserver
from cpr import contains_cpr, redact_cpr
from db.errors import danish_message
from db.observe import LedgerObserver, TaskAction, TaskActor
from ledger import WageReportResult
from ledger.monitoring import queue_snapshot
from nlu import FALLBACK_INTENT, ParseResult
from privacy import RetentionReport

log = logging.getLogger(__name__)
access_log = logging.getLogger("api.access")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
"""Seconds; the targets are p99 < 100 ms, and Twilio gives up after 15 s."""
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_LONG_NUMBER = re.compile(r"\d{8,}")
"""A run of digits long enough to be a phone number (8, or 10 with 45 before them): no id of
ours is that long, so the access line masks it whatever it is."""
QUIET_PATHS = frozenset({"/healthz", "/metrics"})
"""Measured, but their access lines are logged at DEBUG (probes come every few seconds)."""


class Metrics:
    """The counters of one app, and the registry they are exposed from."""

    def __init__(self, ledger: Backend | None = None, *,
                 multiprocess_dir: str | None = None) -> None:
        if multiprocess_dir and values.ValueClass is values.MutexValue:
            # Set in .env only: prometheus_client chose in-memory values at import, and a
            # MultiProcessCollector would find no files. Count in this process instead.
            log.warning("PROMETHEUS_MULTIPROC_DIR is not in the environment of the process; "
                        "each worker exposes its own counters")
            multiprocess_dir = None
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        # In multiprocess mode the values live in files and are exported by a
        # MultiProcessCollector; registering them as well would export them twice.
        target = None if multiprocess_dir else self.registry

        def counter(name: str, doc: str, labels: Iterable[str]) -> Counter:
            return Counter(f"frikort_{name}", doc, list(labels), registry=target)

        self.messages_in = counter("messages_in", "New inbound messages", ["channel"])
        self.messages_duplicate = counter(
            "messages_duplicate", "Provider retries of a stored message", ["channel"])
        self.messages_out = counter(
            "messages_out", "Messages sent, in the webhook's answer or through the outbox",
            ["channel", "via"])
        self.request_latency = Histogram(
            "frikort_http_request_duration_seconds", "HTTP request latency by route template",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=target)
        self.nlu_parses = counter("nlu_parses", "Messages read by the NLU", ["channel"])
        self.nlu_fallbacks = counter(
            "nlu_fallbacks", "Messages the NLU was unsure about (nlu_fallback)", ["channel"])
        self.nlu_intents = counter("nlu_intents", "Messages by the intent read", ["intent"])
        self.answers = counter("answers", "Messages by the answer given (docs/answers.md)",
                               ["answer"])
        self.turn_failures = counter(
            "turn_failures", "Messages whose handling raised (answered with the safe reply)",
            ["channel"])
        self.ledger_commands = counter(
            "ledger_commands", "Ledger commands by outcome (ok, replayed, refused)",
            ["command", "outcome"])
        self.ledger_postings = counter(
            "ledger_postings", "Wage reports reaching a state", ["status"])
        self.ledger_refusals = counter(
            "ledger_refusals", "Ledger refusals by stable error code", ["command", "code"])
        self.outbox_deliveries = counter(
            "outbox_deliveries", "Outbox delivery attempts by outcome", ["channel", "outcome"])
        self.task_actions = counter(
            "task_actions", "Small-job actions by kind and by whom (holder, helper, employer, "
            "staff, system)", ["action", "by"])
        self.retention_anonymised = counter(
            "retention_anonymised", "Rows anonymised by the scheduled retention job", ["kind"])
        self.queues = QueueCollector(ledger) if ledger is not None else None
        if self.queues is not None and not multiprocess_dir:
            self.registry.register(self.queues)

    # Feeding it -------------------------------------------------------------------------------

    def watch(self, ledger: Backend, dialogue: Any) -> None:
        """Becomes the observer of the ledger's commands and of the dialogue's messages."""
        ledger.observer = LedgerMetrics(self)
        dialogue.observer = DialogueMetrics(self)

    def delivered(self, channel: str, outcome: str) -> None:
        self.outbox_deliveries.labels(channel, outcome).inc()
        if outcome == "sent":
            self.messages_out.labels(channel, "outbox").inc()

    def retention_done(self, report: RetentionReport) -> None:
        for kind in ("transcript_messages", "outbox_messages", "conversation_states",
                     "applications", "task_consent_notes"):
            count = getattr(report, kind)
            if count:
                self.retention_anonymised.labels(kind).inc(count)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.request_latency.labels(method, route, str(status)).observe(seconds)

    # Exposing it ------------------------------------------------------------------------------

    def exposition(self) -> bytes:
        if not self.multiprocess_dir:
            return bytes(generate_latest(self.registry))
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        if self.queues is not None:
            registry.register(self.queues)
        return bytes(generate_latest(registry))


class LedgerMetrics(LedgerObserver):
    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics

    def command_succeeded(self, command: str, result: object) -> None:
        replayed = bool(getattr(result, "replayed", False))
        self._m.ledger_commands.labels(command, "replayed" if replayed else "ok").inc()
        if isinstance(result, WageReportResult) and not replayed:
            self._m.ledger_postings.labels(result.status).inc()

    def command_refused(self, command: str, code: str) -> None:
        self._m.ledger_commands.labels(command, "refused").inc()
        self._m.ledger_refusals.labels(command, code).inc()

    def reports_expired(self, count: int) -> None:
        self._m.ledger_postings.labels("expired").inc(count)

    def task_action(self, action: TaskAction, by: TaskActor, count: int) -> None:
        self._m.task_actions.labels(action, by).inc(count)


class DialogueMetrics(DialogueObserver):
    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics

    def stored(self, inbound: InboundMessage, conversation_id: int, duplicate: bool) -> None:
        logging_setup.bind(conversation_id=conversation_id, channel=inbound.channel)
        counter = self._m.messages_duplicate if duplicate else self._m.messages_in
        counter.labels(inbound.channel).inc()

    def parsed(self, inbound: InboundMessage, parse: ParseResult) -> None:
        intent = str(parse["intent"]["name"])
        self._m.nlu_parses.labels(inbound.channel).inc()
        self._m.nlu_intents.labels(intent).inc()
        if intent == FALLBACK_INTENT:
            self._m.nlu_fallbacks.labels(inbound.channel).inc()

    def answered(self, inbound: InboundMessage, replies: list[Reply], queued: bool) -> None:
        if replies and not queued:
            self._m.messages_out.labels(inbound.channel, "reply").inc(len(replies))

    def decided(self, inbound: InboundMessage, outcome: str) -> None:
        self._m.answers.labels(outcome).inc()

    def failed(self, inbound: InboundMessage, conversation_id: int, error: BaseException) -> None:
        self._m.turn_failures.labels(inbound.channel).inc()


class QueueCollector(Collector):
    """Escalations and outbox backlog, read from the database when /metrics is scraped."""

    def __init__(self, ledger: Backend) -> None:
        self._ledger = ledger

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(self._families())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = self._families()
        (waiting, taken, waiting_age, outbox, outbox_age, up) = families
        try:
            snapshot = self._ledger.run_read(queue_snapshot)
        except Exception:  # a scrape during a database outage says so instead of failing
            log.warning("metrics: the queue figures could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        for urgent, count in sorted(snapshot.escalations_waiting.items()):
            waiting.add_metric(["true" if urgent else "false"], count)
        taken.add_metric([], snapshot.escalations_taken)
        waiting_age.add_metric([], snapshot.age_seconds(snapshot.oldest_waiting_escalation))
        for status, count in sorted(snapshot.outbox.items()):
            outbox.add_metric([status], count)
        outbox_age.add_metric([], snapshot.age_seconds(snapshot.oldest_pending_outbox))
        up.add_metric([], 1)
        yield from families

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("frikort_escalations_waiting",
                              "Escalations waiting for a person, by urgency", labels=["urgent"]),
            GaugeMetricFamily("frikort_escalations_taken",
                              "Escalations a caseworker has taken and not resolved"),
            GaugeMetricFamily("frikort_escalation_oldest_waiting_age_seconds",
                              "Age of the oldest waiting escalation (0 when none)"),
            GaugeMetricFamily("frikort_outbox_messages", "Outbox messages not sent, by status",
                              labels=["status"]),
            GaugeMetricFamily("frikort_outbox_oldest_pending_age_seconds",
                              "Age of the oldest message waiting in the outbox (0 when none)"),
            GaugeMetricFamily("frikort_metrics_database_up",
                              "1 when the scrape-time queue figures could be read"),
        )


# The middleware: request id, log context, latency, access line --------------------------------


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's path template, e.g. "/api/v1/cards/{number}" ("unmatched" for a 404).

    Routes of an included router only know their own part ("/cards/{number}"); the prefix is
    taken from the request's path (the same number of trailing segments), with any path
    parameter in it put back as "{name}", so the label never carries a value.
    """
    route = scope.get("route")
    if route is None:
        return "unmatched"
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    template = str(getattr(route, "path_format", None) or getattr(route, "path", None) or "")
    path = str(scope.get("path", ""))
    if path == template or ":path}" in template:
        return template
    parts = path.split("/")
    keep = len(parts) - len(template.split("/")) + 1 if template else len(parts)
    if keep <= 1:
        return template
    values = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    prefix = [f"{{{values[p]}}}" if p and p in values else p for p in parts[:keep]]
    return "/".join(prefix) + template


def path_for_log(path: str) -> str:
    """The path without personal numbers: a caller may type a CPR number or a phone number
    where an id goes ("/escalations/0101901234/take", "/outbox/-4512345678/retry")."""
    return _LONG_NUMBER.sub("[tal]", redact_cpr(path))


def safe_request_id(incoming: str | None) -> str:
    """The caller's X-Request-ID when it is a short safe token (at most 64 of A-Z, a-z, 0-9,
    ".", "_", "-", and no CPR number), else a fresh id of our own: the id goes into every log
    line of the request, so a caller must not be able to put personal data or a secret there."""
    if incoming and _SAFE_REQUEST_ID.fullmatch(incoming) and not contains_cpr(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestMiddleware:
    """Pure ASGI: sets the request id (X-Request-ID in, or a fresh one; echoed in the answer),
    starts the log context, times the request by its route template, logs one access line."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = safe_request_id(_header(scope, b"x-request-id"))
        token = logging_setup.new_context(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.observe_request(method, route, status, elapsed)
            path = str(scope.get("path", ""))
            extra = {"method": method, "route": route, "status": status,
                     "duration_ms": round(elapsed * 1000, 2)}
            key = (scope.get("state") or {}).get("api_key")
            if key is not None:  # which API key: its id (or "admin"), never the key itself
                extra["api_key_id"] = key
            access_log.log(
                logging.DEBUG if path in QUIET_PATHS else logging.INFO,
                "%s %s %d %.1f ms", method, path_for_log(path), status, elapsed * 1000,
                extra=extra)
            logging_setup.reset(token)


# The route ----------------------------------------------------------------------------------


def _authorised(request: Request, settings: Settings) -> bool:
    if not settings.metrics_need_token:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    accepted = [settings.ADMIN_API_KEY.get_secret_value()]
    if settings.METRICS_TOKEN is not None:
        accepted.append(settings.METRICS_TOKEN.get_secret_value())
    return any(secrets.compare_digest(given.encode(), key.encode()) for key in accepted)


def install_metrics(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    """The middleware on every request, and GET /metrics (see README for who may read it)."""
    app.add_middleware(RequestMiddleware, metrics=metrics)

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        if not _authorised(request, settings):
            return problem(401, "unauthorized", danish_message("unauthorized"))
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})
