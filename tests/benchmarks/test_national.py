"""The national benchmark at a tiny scale, on SQLite and PostgreSQL: it generates, finds the
ledger sound, times every operation through the real paths without a failure, and prints
its tables."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.national import print_backend, run_scale
from benchmarks.national_ops import Counts
from tests.api.channel_fixtures import nlu_cache_dir, shared_parser  # noqa: F401

COUNTS = Counts(balance=4, card_check=4, export=2, overview=2, sweep=2)


def test_a_tiny_run_times_every_operation(db_url: str, nlu_cache_dir: Path,  # noqa: F811
                                          capsys: pytest.CaptureFixture[str]) -> None:
    backend = "sqlite" if db_url.startswith("sqlite") else "postgres"
    result = run_scale(db_url, backend, 0.002, counts=COUNTS,
                       parser=shared_parser(nlu_cache_dir))

    assert result.violations == 0
    assert result.generation.rows["wage_reports"] == 1000
    names = [op.name for op in result.ops]
    assert names[:3] == ["balance reply (bot, SALDO)", "card check (bot, employer)",
                         "card check (REST GET /cards/{n})"]
    assert [n.split(",")[0] for n in names[3:6]] == ["export 2025"] * 3
    assert result.generation.samples is not None
    largest = result.generation.samples.municipalities[0][0]
    assert names[6:] == [f"console overview, sagsbehandler ({largest})",
                         "console overview, admin (all)", "expiry sweep (background, every 60 s)"]
    expected = [4, 4, 4, 2, 2, 1, 2, 2, 2]
    assert [len(op.samples_ms) for op in result.ops] == expected
    for op in result.ops:
        assert op.failures == 0, op.name
        assert all(math.isfinite(ms) and ms > 0 for ms in op.percentiles()), op.name
    assert "rows" in result.ops[3].note and "first byte" in result.ops[3].note
    assert result.notes and "peak traced Python memory" in result.notes[0]

    print_backend(backend, [result])
    table = capsys.readouterr().out
    assert "| 0.002 | 30 | 10 | 1000 |" in table
    assert "| balance reply (bot, SALDO) | 0.002 | 4 |" in table

