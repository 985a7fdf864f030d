"""The load harness's profile tools without a server: options, the area and path rules, the
summary of a directory of collapsed stacks, and the flame graph drawn from them."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from benchmarks.load.flamegraph import read_collapsed, render_svg
from benchmarks.load.options import parse_options
from benchmarks.load.profile_areas import (
    OTHER,
    TELEGRAM_INBOUND,
    area_of,
    path_of,
    summarize,
    table,
)

THREAD = "Thread._bootstrap (threading.py:1002);WorkerThread.run (anyio/_backends/_asyncio.py:1)"
TURN = f"{THREAD};Dialogue.handle (bot/engine.py:56);Conversations.store_inbound (ledger/x.py:1)"
ORM = f"{TURN};Session.scalars (sqlalchemy/orm/session.py:2481)"
DRIVER = f"{ORM};Cursor.execute (sqlalchemy/engine/base.py:1);BaseCursor._send (psycopg/c.py:9)"
NLU = f"{TURN};parse (nlu/fast_linear.py:84);compile (re/_compiler.py:7)"
WEBHOOK = "run (asyncio/runners.py:1);telegram_webhook (api/routes/webhooks.py:83)"
PTB = f"{WEBHOOK};Update.de_json (telegram/_update.py:862)"
OUTBOX = "run (asyncio/runners.py:1);BackgroundScheduler.run (api/scheduler.py:158)"
SEND = f"{OUTBOX};Bot.send_message (telegram/_bot.py:1)"


def test_a_sample_is_charged_to_its_leaf_most_known_layer() -> None:
    assert area_of(DRIVER.split(";")).startswith("psycopg")
    assert area_of(ORM.split(";")).startswith("SQLAlchemy ORM")
    assert area_of(NLU.split(";")) == "NLU classify"  # `re` below it is the NLU's
    assert area_of(["main (somewhere/else.py:1)"]) == OTHER


def test_telegram_frames_are_delivery_in_the_outbox_and_parsing_in_the_webhook() -> None:
    assert area_of(SEND.split(";")).startswith("outbox")
    assert area_of(PTB.split(";")) == TELEGRAM_INBOUND
    assert path_of(SEND.split(";")).startswith("outbox")
    assert path_of(PTB.split(";")).startswith("Telegram webhook")
    assert path_of(DRIVER.split(";")).startswith("dialogue turn")


def test_summary_and_flame_graph_of_a_profile_directory(tmp_path: Path) -> None:
    (tmp_path / "postgres-saturation-worker1.txt").write_text(
        f"{DRIVER} 30\n{NLU} 10\n", encoding="utf-8")
    (tmp_path / "postgres-saturation-worker2.txt").write_text(f"{SEND} 60\n", encoding="utf-8")
    [summary] = summarize(tmp_path)
    assert (summary.phase, summary.workers, summary.samples) == ("postgres-saturation", 2, 100)
    assert summary.share("NLU classify") == pytest.approx(10.0)
    assert "| NLU classify | 10.0 % |" in table([summary])
    svg = render_svg(read_collapsed(sorted(tmp_path.glob("*.txt"))), "test")
    root = ET.fromstring(svg)
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.startswith("all (100 samples") for t in titles)
    assert any("parse (nlu/fast_linear.py:84) (10 samples, 10.00 %)" in t for t in titles)


def test_profile_options() -> None:
    options = parse_options(["--profile", "var/prof", "--profile-phases", "saturation,cost"])
    assert options.profile_dir == Path("var/prof")
    assert options.profile_phases == {"saturation", "cost"}
    assert parse_options([]).profile_dir is None
    with pytest.raises(SystemExit):
        parse_options(["--profile-phases", "warmup"])
