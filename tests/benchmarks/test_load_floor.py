"""The floor benchmark in its quick mode on PostgreSQL: every level answers every message, at
every concurrency, and the level that stores messages kept each one answered exactly once."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks.load.floor import LEVELS, parse_options, render, run
from tests.api.channel_fixtures import nlu_cache_dir  # noqa: F401  (the shared model cache)
from tests.databases import POSTGRES_ADMIN_URL, drop_database


@pytest.mark.slow
@pytest.mark.postgres
def test_quick_floor_run_answers_every_message_at_every_level(
        nlu_cache_dir: Path, postgres_available: bool) -> None:  # noqa: F811
    if not postgres_available:
        pytest.skip("PostgreSQL not reachable (this is a failure when CI is set)")
    name = f"frikort_load_floor_test_{uuid.uuid4().hex[:10]}"
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    options = parse_options(["--quick", "--postgres-url", url, "--nlu-cache",
                             str(nlu_cache_dir), "--keep-database"])
    try:
        report = run(options, progress_quiet=True)
        text = render(report, options)
        assert report.errors == 0, text
        seen = [(row.level.key, row.phase.concurrency) for row in report.rows]
        assert seen == [(level.key, c) for level in LEVELS for c in options.concurrency], text
        for row in report.rows:
            assert row.phase.achieved > 0 and row.phase.ok == row.phase.sent, text
            assert row.server_ms is not None and row.server_ms > 0, text
            assert math.isfinite(row.phase.latency(99)), text
            if row.level.key in ("stored", "ours"):
                assert row.db_ms is not None and row.db_ms > 0, text
        assert text.count("\n| (") == len(report.rows), text
        # Every message stored by (c) or (d) was answered, once: no inbound row is left
        # unanswered and none was stored twice.
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                unanswered, duplicates = conn.execute(sa.text(
                    "SELECT count(*) FILTER (WHERE processed_at IS NULL),"
                    " count(*) - count(DISTINCT (channel, provider_message_id))"
                    " FROM transcript_messages WHERE direction = 'in'")).one()
        finally:
            engine.dispose()
        assert (unanswered, duplicates) == (0, 0), text
    finally:
        drop_database(name)
