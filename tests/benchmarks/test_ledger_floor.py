"""The ledger's floor benchmark (pgbench with our statements) at a tiny scale on PostgreSQL:
every variant posts reports without a failure, and what they wrote is what the ledger writes
(checked at the end; the check itself is shown to catch a missing audit row)."""

from __future__ import annotations

import re

import pytest

from benchmarks.ledger import postgres_database, prepare
from benchmarks.ledger_floor import (
    NO_AUDIT,
    OURS,
    check,
    count_parameters,
    install_functions,
    main,
    run_pgbench,
    scripts,
)


@pytest.mark.slow
@pytest.mark.postgres
def test_every_variant_posts_reports_and_leaves_a_sound_ledger(
        postgres_available: bool, capsys: pytest.CaptureFixture[str]) -> None:
    if not postgres_available:
        pytest.skip("PostgreSQL not reachable (this is a failure when CI is set)")
    assert main(["--seconds", "1", "--rounds", "1", "--clients", "2"]) == 0
    out = capsys.readouterr().out
    for variant in [*scripts(0), OURS]:
        row = re.search(rf"^\| {re.escape(variant)} \| 2 \| (\d+) \| ([\d.]+|–) \|$", out,
                        re.MULTILINE)
        assert row is not None, out
        assert int(row.group(1)) > 0, out
    assert re.search(r"^Checked: [1-9]\d* reports, \d+ audit rows; no problem\.$", out,
                     re.MULTILINE), out


@pytest.mark.slow
@pytest.mark.postgres
def test_the_check_finds_reports_without_their_audit_row(
        postgres_available: bool, capsys: pytest.CaptureFixture[str]) -> None:
    if not postgres_available:
        pytest.skip("PostgreSQL not reachable (this is a failure when CI is set)")
    with postgres_database() as url:
        numbers, _ = prepare(url, 20)
        year_lock = int(count_parameters(url, numbers[0])["year_namespace"])
        install_functions(url, year_lock)
        schema = url.rsplit("search_path%3D", 1)[1]
        cell = run_pgbench(url, schema, scripts(year_lock, 20)[NO_AUDIT], 1, 1)
        assert cell.reports > 0
        assert check(url, cell.reports) == []
        problems = check(url, 0)
    # The one report `count_parameters` made has its audit row; pgbench's reports have none.
    assert problems == [f"audit rows: 1 where {cell.reports + 1} were expected"]
