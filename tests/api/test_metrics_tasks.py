"""Small jobs on /metrics: every action counted once it committed, by what and by whom.

The actions come from real traffic: the demo chat (the bot's conversation turns), the task
service as the console and the background jobs call it. Figures are read back through
Prometheus' own text parser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from api.metrics import Metrics
from db.commands import Actor
from db.observe import TASK_ACTIONS, TASK_ACTORS
from db.task_tables import Task, TaskAssignment
from nlu import Parser
from privacy import RetentionReport
from tests.api.channel_fixtures import CAFE_CVR, JENS_CARD, Channels, running_channels
from tests.api.test_metrics import Samples, say, scrape, value

STAFF = Actor(name="console:anna", channel="console")
HOLDER = Actor(name="sms:48213", channel="sms")
ACTIONS = "frikort_task_actions_total"


@pytest.fixture
def demo(demo_db_url: str, channel_parser: Parser) -> Iterator[Channels]:
    with running_channels(demo_db_url, channel_parser, twilio=None, telegram=None) as made:
        yield made


def chat(app: Channels, *turns: tuple[str, str]) -> list[str]:
    return [text for identity, line in turns for text in say(app, identity, line)]


def reserved(app: Channels) -> int:
    """Jens's one reserved place (a place taken again reuses its row, so not the newest id)."""
    [place] = app.rows(TaskAssignment, TaskAssignment.status == "reserved")
    return int(place["id"])


def take_first(app: Channels) -> int:
    assert "Svar 1" in " ".join(chat(app, (JENS_CARD, "JOB 8000")))
    assert chat(app, (JENS_CARD, "1"))
    return reserved(app)


def actions(samples: Samples) -> dict[tuple[str, str], float]:
    found = {}
    for (name, labels), count in samples.items():
        if name == ACTIONS:
            by_label = dict(labels)
            found[(by_label["action"], by_label["by"])] = count
    return found


def test_small_job_actions_are_counted_by_kind_and_by_whom(demo: Channels) -> None:
    # Jens opts in to a digest; an hour later the café posts a task by message.
    assert any("8000" in t for t in chat(demo, (JENS_CARD, "JOB DAGLIG"), (JENS_CARD, "8000")))
    demo.clock.advance(hours=1)
    posted = chat(demo, (CAFE_CVR, "opslå job: havearbejde 3 timer fredag, 8000, 150 kr/time"),
                  (CAFE_CVR, "ja"))
    assert "er slået op" in posted[-1]
    assert demo.ledger.tasks.send_due_digests() == 1

    # Taken, confirmed (twice: counted once), marked no-show.
    place = take_first(demo)
    chat(demo, (CAFE_CVR, f"JA {place}"), (CAFE_CVR, f"JA {place}"), (CAFE_CVR, "JA 999"))
    chat(demo, (CAFE_CVR, f"UDEBLEV {place}"))
    # Taken and given back by Jens; taken and called off by the café.
    chat(demo, (JENS_CARD, f"AFMELD {take_first(demo)}"))
    chat(demo, (CAFE_CVR, f"AFLYS {take_first(demo)}"))
    # Through the task service (the console's way): a place taken, then its task taken down
    # by a caseworker; another place left to run out.
    [garden] = [t for t in demo.rows(Task) if t["title"] == "havearbejde"]
    demo.ledger.tasks.take_task(garden["id"], JENS_CARD, via="sms", actor=HOLDER)
    demo.ledger.tasks.cancel_task(garden["id"], employer_cvr=None, actor=STAFF)
    take_first(demo)
    demo.clock.advance(hours=49)
    demo.ledger.tasks.expire_tasks()

    samples = scrape(demo.client)
    counted = actions(samples)
    statuses = [t["status"] for t in demo.rows(Task)]
    expected = {
        ("task_posted", "employer"): 1, ("digest_sent", "system"): 1,
        ("place_taken", "holder"): 5, ("place_confirmed", "employer"): 1,
        ("place_no_show", "employer"): 1, ("place_cancelled", "holder"): 1,
        ("place_cancelled", "employer"): 1, ("task_cancelled", "staff"): 1,
        ("place_cancelled", "staff"): 1, ("place_released", "system"): 1,
    }
    if statuses.count("expired"):
        expected[("task_expired", "system")] = statuses.count("expired")
    assert counted == expected
    assert all(action in TASK_ACTIONS and by in TASK_ACTORS for action, by in counted)
    # The bot's steps are still ledger commands too; the console's are not (see README).
    assert value(samples, "frikort_ledger_commands_total", command="TakeTask",
                 outcome="ok") == 4
    assert value(samples, "frikort_ledger_refusals_total", command="ConfirmAssignment",
                 code="assignment_not_found") == 1
    assert not [key for key in samples if JENS_CARD in repr(key) or CAFE_CVR in repr(key)]


def test_retention_counts_the_consent_notes_it_anonymised() -> None:
    metrics = Metrics(None)
    metrics.retention_done(RetentionReport(cutoff=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                                           dry_run=False, task_consent_notes=2))
    text = metrics.exposition().decode()
    assert 'frikort_retention_anonymised_total{kind="task_consent_notes"} 2.0' in text
