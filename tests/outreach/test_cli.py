"""`frikort outreach run|list|disable`, in process, on a world's SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from outreach.rules import catalogue
from tests.ledger.casework_support import JENS_PHONE, METTE_PHONE, World, make_world
from tests.ledger.support import world_fixture
from tests.outreach.support import set_cap

runner = CliRunner()


cli_world = world_fixture(make_world, on="sqlite_url")


def _env(world: World, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": world.url, "ENVIRONMENT": "development", "HOME": str(tmp_path)}


def test_run_dry_run_json_then_for_real(cli_world: World, tmp_path: Path) -> None:
    set_cap(cli_world, 2026, 43_000)
    env = _env(cli_world, tmp_path)
    at = "2025-06-16T14:30"  # Danish time: the world's clock is 14:00
    dry = runner.invoke(app, ["outreach", "run", "--at", at, "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    lines = [json.loads(line) for line in dry.output.splitlines()]
    assert {line["rule"] for line in lines} == {"new_year"} and len(lines) == 2
    assert {line["recipient"] for line in lines} == {"+45 xx xx xx 50", "+45 xx xx xx 87"}
    assert all(line["channel"] == "sms" and "43.000,00 kr." in line["text"] for line in lines)
    assert JENS_PHONE not in dry.output and METTE_PHONE not in dry.output
    assert cli_world.rows("outbox") == [] and cli_world.rows("outreach_messages") == []
    real = runner.invoke(app, ["outreach", "run", "--at", at], env=env)
    assert real.exit_code == 0, real.output
    assert "queued 2 messages" in real.output and "new_year  +45 xx xx xx" in real.output
    assert len(cli_world.rows("outbox")) == 2
    again = runner.invoke(app, ["outreach", "run", "--at", at], env=env)
    assert "queued 0 messages" in again.output


def test_run_in_quiet_hours_and_a_bad_timestamp(cli_world: World, tmp_path: Path) -> None:
    env = _env(cli_world, tmp_path)
    night = runner.invoke(app, ["outreach", "run", "--at", "2025-06-16T22:00"], env=env)
    assert night.exit_code == 0 and "quiet hours" in night.output
    bad = runner.invoke(app, ["outreach", "run", "--at", "i morgen"], env=env)
    assert bad.exit_code == 2 and "outreach_invalid_timestamp" in bad.output


def test_list_and_disable(cli_world: World, tmp_path: Path) -> None:
    env = _env(cli_world, tmp_path)
    listed = runner.invoke(app, ["outreach", "list"], env=env)
    assert listed.exit_code == 0
    for rule in catalogue():
        assert f"{rule.name} (on)" in listed.output
    assert "Skriv JOB" in listed.output
    off = runner.invoke(app, ["outreach", "disable", "never_used"], env=env)
    assert off.exit_code == 0
    assert "never_used (OFF)" in runner.invoke(app, ["outreach", "list"], env=env).output
    unknown = runner.invoke(app, ["outreach", "disable", "spam"], env=env)
    assert unknown.exit_code == 2 and "outreach_unknown_rule" in unknown.output
