"""GET /metrics after real traffic: the demo chat, the Twilio and Telegram webhooks, the REST API.

Every figure asserted here is produced by requests through the app (nothing is incremented by
hand), read back through Prometheus' own text parser.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.metrics import Metrics, QueueCollector
from api.settings import Settings
from nlu import FALLBACK_INTENT, Parser
from tests.api.channel_fixtures import (
    ADMIN_KEY,
    AUTH,
    CAFE_CVR,
    JENS_CARD,
    JENS_PHONE,
    Channels,
    running_channels,
    tg_text_update,
    twiml_messages,
)
from tests.conftest import TEST_CLIENT_HOST
from tests.fakes.telegram_api import FakeTelegram
from tests.ledger.support import FakeClock, fast_ledger
from tests.production_env import PRODUCTION_SECRETS

SESSION = "metrics-session-1"
FALLBACK_CANDIDATES = ("tja og", "og og", "hmm nå", "såeh", "nå men")
"""Not "og så": a vague follow-up, which offers a person (bot/flows/intents.py _VAGUE_NEXT)."""


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient, headers: dict[str, str] | None = None) -> Samples:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def say(app: Channels, identity: str, text: str) -> list[str]:
    response = app.client.post("/demo/messages",
                               json={"identity": identity, "session": SESSION, "text": text})
    assert response.status_code == 200, response.text
    return [r["text"] for r in response.json()["replies"]]


@pytest.fixture
def demo(tmp_path: Path, channel_parser: Parser) -> Iterator[Channels]:
    with running_channels(f"sqlite:///{tmp_path / 'metrics.db'}", channel_parser,
                          twilio=None, telegram=None) as made:
        yield made


def test_metrics_count_the_demo_chat_traffic(demo: Channels, channel_parser: Parser) -> None:
    fallback_text = next((t for t in FALLBACK_CANDIDATES
                          if channel_parser.parse(t)["intent"]["name"] == FALLBACK_INTENT), None)
    assert fallback_text is not None, "no candidate text falls back any more: add one"
    texts = [(JENS_CARD, "saldo"), (JENS_CARD, fallback_text),
             (CAFE_CVR, "indberet 4 timer 600 kr frikort 48213"), (CAFE_CVR, "ja"),
             ("unknown", "kan jeg tale med et menneske"), ("unknown", "ja")]
    replies = sum(len(say(demo, identity, text)) for identity, text in texts)
    expected_fallbacks = sum(channel_parser.parse(t)["intent"]["name"] == FALLBACK_INTENT
                             for _, t in texts)
    demo.clock.advance(minutes=10)

    samples = scrape(demo.client)
    assert value(samples, "frikort_messages_in_total", channel="web") == len(texts)
    assert value(samples, "frikort_messages_out_total", channel="web", via="reply") == replies
    assert value(samples, "frikort_nlu_parses_total", channel="web") == len(texts)
    assert value(samples, "frikort_nlu_fallbacks_total", channel="web") == expected_fallbacks >= 1
    assert value(samples, "frikort_nlu_intents_total", intent="check_balance") >= 1
    # What people got, by answer id: the balance, the report read back then posted, a person.
    assert value(samples, "frikort_answers_total", answer="balance") == 1
    assert value(samples, "frikort_answers_total", answer="flow:report_wage") == 2
    assert value(samples, "frikort_answers_total", answer="handoff") == 2
    assert value(samples, "frikort_turn_failures_total", channel="web") == 0
    # Latency by route template, with the count of requests and a +Inf bucket.
    labels = {"method": "POST", "route": "/demo/messages", "status": "200"}
    assert value(samples, "frikort_http_request_duration_seconds_count", **labels) == len(texts)
    assert value(samples, "frikort_http_request_duration_seconds_bucket", le="+Inf",
                 **labels) == len(texts)
    assert value(samples, "frikort_http_request_duration_seconds_sum", **labels) > 0
    # The café's confirmed report was posted through the ledger.
    assert value(samples, "frikort_ledger_postings_total", status="posted") == 1
    assert value(samples, "frikort_ledger_commands_total", command="ReportWage",
                 outcome="ok") == 1
    # The SMS to Jens waits in the outbox (no SMS provider in the demo); the unknown sender
    # waits for a person. Both ages come from the ledger's clock, moved on ten minutes.
    assert value(samples, "frikort_outbox_messages", status="pending") == 1
    assert value(samples, "frikort_outbox_oldest_pending_age_seconds") == 600
    assert value(samples, "frikort_escalations_waiting", urgent="false") == 1
    assert value(samples, "frikort_escalations_waiting", urgent="true") == 0
    assert value(samples, "frikort_escalation_oldest_waiting_age_seconds") == 600
    assert value(samples, "frikort_metrics_database_up") == 1


def test_refusals_are_counted_by_their_code(demo: Channels) -> None:
    for key in ("m-1", "m-2"):
        response = demo.client.post(
            "/api/v1/wage-reports", headers={**AUTH, "Idempotency-Key": key},
            json={"employer_cvr": CAFE_CVR, "card_number": "99999", "paid_on": "2026-11-20",
                  "hours": "2", "amount": "300.00", "post": True})
        assert response.status_code == 404, response.text
    missing = demo.client.get("/api/v1/cards/99999", headers=AUTH)
    assert missing.status_code == 404
    samples = scrape(demo.client)
    assert value(samples, "frikort_ledger_refusals_total", command="ReportWage",
                 code="card_not_found") == 2
    assert value(samples, "frikort_ledger_commands_total", command="ReportWage",
                 outcome="refused") == 2
    assert value(samples, "frikort_ledger_postings_total", status="posted") == 0
    assert value(samples, "frikort_http_request_duration_seconds_count", method="GET",
                 route="/api/v1/cards/{number}", status="404") == 1
    assert value(samples, "frikort_http_request_duration_seconds_count", method="POST",
                 route="/api/v1/wage-reports", status="404") == 2
    assert not [key for key in samples if "99999" in repr(key)], "a path value became a label"
    # An unknown path is one series, not one per path.
    demo.client.get("/no/such/page/1")
    demo.client.get("/no/such/page/2")
    samples = scrape(demo.client)
    assert value(samples, "frikort_http_request_duration_seconds_count", method="GET",
                 route="unmatched", status="404") == 2


def test_webhooks_and_the_outbox_are_counted_per_channel(
    channels: Channels, fake_telegram: FakeTelegram,
) -> None:
    sid = "SM" + "7" * 32
    answers = [channels.sms(JENS_PHONE, "saldo"), channels.sms(JENS_PHONE, "saldo", sid=sid),
               channels.sms(JENS_PHONE, "saldo", sid=sid)]  # the last: Twilio retrying
    assert all(a.status_code == 200 for a in answers)
    sms_replies = sum(len(twiml_messages(a.text)) for a in answers)
    assert "48213" in answers[0].text and sms_replies >= 3
    assert channels.tg(tg_text_update(5_550_100, "hej")).status_code == 200
    before = scrape(channels.client)
    assert value(before, "frikort_messages_in_total", channel="sms") == 2
    assert value(before, "frikort_messages_duplicate_total", channel="sms") == 1
    assert value(before, "frikort_messages_in_total", channel="telegram") == 1
    assert value(before, "frikort_messages_out_total", channel="sms", via="reply") == sms_replies
    # Telegram answers go through the outbox: counted when delivered, not before.
    assert value(before, "frikort_messages_out_total", channel="telegram", via="reply") == 0
    assert value(before, "frikort_outbox_messages", status="pending") >= 1
    delivered = channels.deliver_all()
    assert delivered >= 1
    after = scrape(channels.client)
    assert value(after, "frikort_outbox_deliveries_total", channel="telegram",
                 outcome="sent") == delivered
    assert value(after, "frikort_messages_out_total", channel="telegram",
                 via="outbox") == delivered
    assert value(after, "frikort_outbox_messages", status="pending") == 0
    assert value(after, "frikort_outbox_oldest_pending_age_seconds") == 0
    assert value(after, "frikort_http_request_duration_seconds_count", method="POST",
                 route="/webhooks/twilio/sms", status="200") == 3


def _app(tmp_path: Path, name: str, **settings: Any) -> TestClient:
    url = f"sqlite:///{tmp_path / name}"
    ledger = fast_ledger(url)
    values: dict[str, Any] = {"DATABASE_URL": url, "ADMIN_API_KEY": ADMIN_KEY,
                              "ALLOWED_HOSTS": TEST_CLIENT_HOST,
                              "RUN_BACKGROUND_WORKER": False, **settings}
    app = create_app(Settings(_env_file=None, **values), ledger=ledger)
    app.state.test_ledger = ledger
    return TestClient(app)


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {PRODUCTION_SECRETS[secret]}"}


def test_metrics_need_a_bearer_in_production(tmp_path: Path) -> None:
    """Production always has a METRICS_TOKEN (start-up refuses to run without one)."""
    with _app(tmp_path, "prod.db", **PRODUCTION_SECRETS) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"},
                        {"Authorization": PRODUCTION_SECRETS["ADMIN_API_KEY"]}):
            response = client.get("/metrics", headers=headers)
            assert response.status_code == 401, (headers, response.text)
            assert response.json()["code"] == "unauthorized"
            assert "frikort_" not in response.text
        for secret in ("ADMIN_API_KEY", "METRICS_TOKEN"):
            assert "frikort_messages_in_total" in client.get(
                "/metrics", headers=_bearer(secret)).text
        client.app.state.test_ledger.close()  # type: ignore[attr-defined]  # the client's app is the FastAPI app


def test_metrics_are_open_in_development_unless_a_token_is_set(tmp_path: Path) -> None:
    with _app(tmp_path, "dev.db") as client:
        assert client.get("/metrics").status_code == 200
        client.app.state.test_ledger.close()  # type: ignore[attr-defined]  # the client's app is the FastAPI app
    with _app(tmp_path, "dev-token.db", METRICS_TOKEN="dev-scrape-token-77") as client:
        assert client.get("/metrics").status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer dev-scrape-token-77"})
        assert ok.status_code == 200
        client.app.state.test_ledger.close()  # type: ignore[attr-defined]  # the client's app is the FastAPI app


def test_two_apps_in_one_process_keep_their_own_counts(tmp_path: Path) -> None:
    with _app(tmp_path, "one.db") as one, _app(tmp_path, "two.db") as two:
        for _ in range(3):
            assert one.get("/healthz").status_code == 200
        labels = {"method": "GET", "route": "/healthz", "status": "200"}
        assert value(scrape(one), "frikort_http_request_duration_seconds_count", **labels) == 3
        assert value(scrape(two), "frikort_http_request_duration_seconds_count", **labels) == 0
        one.app.state.test_ledger.close()  # type: ignore[attr-defined]  # the client's app is the FastAPI app
        two.app.state.test_ledger.close()  # type: ignore[attr-defined]  # the client's app is the FastAPI app


def test_request_ids_are_echoed_or_made(tmp_path: Path) -> None:
    with _app(tmp_path, "ids.db") as client:
        given = client.get("/healthz", headers={"X-Request-ID": "lb-4f2a.77_x"})
        assert given.headers["X-Request-ID"] == "lb-4f2a.77_x"
        made = client.get("/healthz").headers["X-Request-ID"]
        other = client.get("/healthz").headers["X-Request-ID"]
        assert len(made) == 32 and int(made, 16) >= 0 and made != other
        for bad in ("has spaces", "x" * 65, "<script>", "a/b", "lb:1", "070761-4285"):
            got = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
            assert got != bad and len(got) == 32
        # Problems carry it too.
        assert client.get("/api/v1/caps").headers["X-Request-ID"]
        client.app.state.test_ledger.close()  # type: ignore[attr-defined]  # the client's app is the FastAPI app


def test_a_database_outage_shows_as_database_down_not_as_a_failed_scrape() -> None:
    class Down:
        def run_read(self, work: Any) -> Any:
            raise OSError("connection refused")

    metrics = Metrics(None)
    metrics.registry.register(QueueCollector(Down()))  # type: ignore[arg-type]  # a stand-in whose reads fail
    text = metrics.exposition().decode()
    assert "frikort_metrics_database_up 0.0" in text
    assert "frikort_escalations_waiting{" not in text


def test_the_queue_ages_use_the_ledger_clock(tmp_path: Path) -> None:
    """A pure check of the scrape-time query: nothing waiting means zero, not a missing series."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    ledger = fast_ledger(url)
    try:
        text = Metrics(ledger).exposition().decode()
    finally:
        ledger.close()
    assert "frikort_outbox_oldest_pending_age_seconds 0.0" in text
    assert 'frikort_escalations_waiting{urgent="false"} 0.0' in text
    assert 'frikort_outbox_messages{status="dead"} 0.0' in text


def test_the_retention_job_runs_in_the_background_loop_and_is_counted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'retention.db'}"
    clock = FakeClock()
    ledger = fast_ledger(url, clock)
    ledger.conversations.store_inbound("sms", "+4520304050", "SM-old", "en gammel besked")
    clock.advance(days=400)
    settings = Settings(_env_file=None, DATABASE_URL=url,
                        RUN_BACKGROUND_WORKER=False, RETENTION_DAYS=365,
                        ALLOWED_HOSTS=TEST_CLIENT_HOST)
    app = create_app(settings, ledger=ledger)
    worker = app.state.scheduler
    [job] = [job for job in worker.jobs if job.name == "retention"]

    async def loop_passes() -> None:
        await worker.run_due_jobs(1000.0)  # the first pass only schedules it
        assert job.task is None
        await worker.run_due_jobs(1000.0 + job.first_after_s)
        assert job.task is not None
        await job.task
        started = job.task
        await worker.run_due_jobs(1000.0 + job.first_after_s + 60)
        assert job.task is started, "the daily job ran twice in a minute"

    try:
        with TestClient(app) as client:
            assert client.portal is not None
            client.portal.call(loop_passes)
            [line] = ledger.conversations.transcript(1)
            assert line.text == "[slettet]"
            samples = scrape(client)
            assert value(samples, "frikort_retention_anonymised_total",
                         kind="transcript_messages") == 1
    finally:
        ledger.close()


MULTIPROCESS_WORKER = """
import sys
from api.metrics import Metrics
metrics = Metrics(None, multiprocess_dir=sys.argv[1])
metrics.messages_in.labels("sms").inc(int(sys.argv[2]))
if sys.argv[3] == "show":
    sys.stdout.write(metrics.exposition().decode())
"""


def test_with_a_multiprocess_dir_a_scrape_adds_up_every_worker(tmp_path: Path) -> None:
    """Two processes (as two uvicorn workers) count into one directory; either one's scrape
    shows the sum."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    outputs = [subprocess.run([sys.executable, "-c", MULTIPROCESS_WORKER, str(folder), str(n),
                               show], env=env, capture_output=True, text=True, timeout=60,
                              cwd=Path(__file__).resolve().parents[2], check=True).stdout
               for n, show in ((2, "no"), (3, "show"))]
    assert 'frikort_messages_in_total{channel="sms"} 5.0' in outputs[1], outputs[1]


def test_a_multiprocess_dir_only_in_the_settings_falls_back_to_this_process(
    tmp_path: Path,
) -> None:
    """prometheus_client decides at import; a directory given only through .env must not make
    every counter vanish from the scrape."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        pytest.skip("this process was started in multiprocess mode")
    metrics = Metrics(None, multiprocess_dir=str(tmp_path))
    assert metrics.multiprocess_dir is None
    metrics.messages_in.labels("sms").inc()
    assert 'frikort_messages_in_total{channel="sms"} 1.0' in metrics.exposition().decode()
