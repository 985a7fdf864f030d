"""The `frikort` command on a temporary SQLite database: the installed entry point as a real
subprocess where the process is what is tested (the first `db upgrade`, `serve`), every other
command in-process through tests/cli_runner.py (the same Typer app, environment and folder)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.bootstrap import Backend
from api.cli import app as cli_app
from api.settings import Settings
from db.unit_of_work import danish_day
from tests import databases, nlu_models
from tests.cli_runner import run_frikort
from tests.conftest import IN_CI
from tests.fakes.http_server import free_port
from tests.yaml_files import read_yaml

ROOT = Path(__file__).resolve().parents[1]
FRIKORT = Path(sys.executable).parent / "frikort"
DEMO = read_yaml(ROOT / "sampledata" / "data" / "demo.yml")
YEAR = danish_day(dt.datetime.now(dt.UTC)).year
"""The ledger's year (its today is the Danish day), which `demo seed` and `ledger balance` use:
the machine's date is still last year for the hour after 23:00 UTC on 31 December."""

pytestmark = pytest.mark.skipif(not FRIKORT.exists() and not IN_CI,
                                reason="the frikort entry point is not installed (with CI set "
                                       "these tests run, and fail without it)")


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`frikort <args>` in-process (tests/cli_runner.py), in the folder HOME."""
    result = run_frikort(args, env=env, cwd=env["HOME"])
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def run_process(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `frikort` entry point as a subprocess."""
    result = subprocess.run([str(FRIKORT), *args], env=env, cwd=env["HOME"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated and seeded database shared by the read-only CLI tests of this module: the
    installed entry point migrates it as an operator would, the seed runs in-process."""
    home = tmp_path_factory.mktemp("cli")
    env = _env(home)
    assert "up to date" in run_process(env, "db", "upgrade").stdout
    assert "seeded" in run(env, "demo", "seed").stdout
    return env


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_", "ADMIN_", "CPR_", "TELEGRAM_", "TWILIO_"))}
    env.update(HOME=str(home), DATABASE_URL=f"sqlite:///{home / 'frikort.db'}",
               ENVIRONMENT="development", PYTHONUNBUFFERED="1",
               # The NLU model the suite trained (tests/nlu_models.py): `demo seed` and the
               # server's warm-up only load it.
               NLU_CACHE_DIR=str(nlu_models.trained_cache_dir()))
    return env


def test_demo_seed_is_idempotent_with_if_empty(cli_env: dict[str, str]) -> None:
    again = run(cli_env, "demo", "seed", "--if-empty")
    assert again.stdout.strip() == "demo data already present"
    refused = CliRunner().invoke(cli_app, ["demo", "seed"], env=cli_env)
    assert refused.exit_code == 1 and "already present" in refused.output
    # The export test below checks that the seeded reports exist exactly once afterwards.


def test_caps_list_shows_sources_and_the_demo_label(cli_env: dict[str, str]) -> None:
    lines = run(cli_env, "caps", "list").stdout.splitlines()
    by_year = {int(line.split()[0]): line for line in lines if line.strip()}
    assert "42.766,00 kr." in by_year[2025] and "tax.dk" in by_year[2025]
    assert "20.000,00 kr." in by_year[2019]
    if YEAR > 2025:
        assert "(demo value)" in by_year[YEAR]
    assert "(demo value)" not in by_year[2025] or YEAR == 2025


def test_ledger_balance_of_the_demo_card(cli_env: dict[str, str]) -> None:
    out = run(cli_env, "ledger", "balance", "48213").stdout
    assert f"card 48213, {YEAR}" in out
    total = sum(int(float(r["amount"]) * 100) for r in DEMO["wage_reports"] if r["card"] == "48213")
    assert total == 206250
    assert "posted     2.062,50 kr." in out
    assert "pending    0,00 kr." in out
    assert "remaining  40.703,50 kr." in out
    last_year = run(cli_env, "ledger", "balance", "48213", "--year", str(YEAR - 1)).stdout
    assert f"card 48213, {YEAR - 1}" in last_year and "posted     0,00 kr." in last_year
    assert "remaining  " in last_year


def _export(env: dict[str, str], fmt: str, municipality: str = "751") -> list[dict[str, str]]:
    out = run(env, "ledger", "export", "--municipality", municipality, "--year", str(YEAR),
              "--format", fmt).stdout
    if fmt == "json":
        return list(json.loads(out))
    return list(csv.DictReader(io.StringIO(out)))


def test_ledger_export_csv_and_json_agree(cli_env: dict[str, str]) -> None:
    rows_csv = _export(cli_env, "csv")
    rows_json = _export(cli_env, "json")
    # Exactly the demo reports, once each, although `demo seed` ran again above.
    expected = [(r["card"], r["employer"], r["amount"]) for r in DEMO["wage_reports"]]
    assert [(r["card_number"], r["employer_cvr"], r["amount"]) for r in rows_csv] == expected
    assert [(r["card_number"], r["employer_cvr"], r["amount"]) for r in rows_json] == expected
    assert all(r["status"] == "posted" and r["counted_amount"] == r["amount"] for r in rows_json)
    assert [str(r["report_id"]) for r in rows_json] == [r["report_id"] for r in rows_csv]


def _migrated_env(home: Path) -> dict[str, str]:
    """A fresh database, a copy of the migrated template (tests/databases.py)."""
    env = _env(home)
    databases.sqlite_copy(home / "frikort.db")
    return env


def test_caps_set_with_source_and_bad_amounts(tmp_path: Path) -> None:
    env = _migrated_env(tmp_path)
    out = run(env, "caps", "set", "2026", "42766", "--source", "https://example.org/2026").stdout
    assert "cap 2026: 42.766,00 kr." in out and "0 waiting reports counted" in out
    bad = run(env, "caps", "set", "2027", "42.766", "--source", "https://x.dk", check=False)
    assert bad.returncode == 2, (bad.stdout, bad.stderr)
    assert "at most two decimals" in bad.stderr and "Traceback" not in bad.stderr
    caps = _caps(env)
    assert caps[2026] == (4276600, "https://example.org/2026", False)
    assert 2027 not in caps


def test_caps_set_refusals_in_process(tmp_path: Path) -> None:
    """More refusals, through the same Typer app in-process."""
    env = _migrated_env(tmp_path)
    runner = CliRunner()
    for args in (("2027", "12,5", "--source", "https://x.dk"),
                 ("2027", "-5", "--source", "https://x.dk"),
                 ("2027", "100"),
                 ("1990", "100", "--source", "https://x.dk"),
                 ("2027", "100", "--source", "x")):
        result = runner.invoke(cli_app, ["caps", "set", *args], env=env)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.strip()
        assert result.exception is None or isinstance(result.exception, SystemExit), args
    assert 2027 not in _caps(env), "a refused cap was stored"
    unknown = runner.invoke(cli_app, ["ledger", "balance", "11111"], env=env)
    assert unknown.exit_code == 2 and "Frikort 11111 findes ikke." in unknown.output
    xml = runner.invoke(cli_app, ["ledger", "export", "--municipality", "751", "--year", "2025",
                                  "--format", "xml"], env=env)
    assert xml.exit_code == 2 and "csv or json" in xml.output


def test_demo_seed_leaves_work_for_the_console(cli_env: dict[str, str]) -> None:
    """The demo conversations went through the bot: a person is waited for, an application
    waits for a decision, and a message the bot did not understand shows in the overview."""
    settings = Settings(_env_file=None, DATABASE_URL=cli_env["DATABASE_URL"])
    ledger = Backend(settings.ledger)
    try:
        admin = ledger.staff.authenticate("admin", DEMO["staff"]["password"], "127.0.0.1")
        inbox = ledger.casework.inbox(admin)
        applications = ledger.casework.applications(admin)
        overview = ledger.casework.overview(admin, YEAR)
    finally:
        ledger.close()
    assert [item.channel for item in inbox] == ["sms"]
    assert [(a.name, a.status) for a in applications] == [("Peter Nielsen", "received")]
    assert "det gule papir forstår jeg ikke" in [f.text for f in overview.fallbacks]


def test_demo_seed_holds_open_tasks_near_the_demo_holders(cli_env: dict[str, str]) -> None:
    """Small jobs (issue 6): the demo tasks are open, posted once each (the second `demo seed`
    above changed nothing), and JOB has something to list for Jens and for Mette."""
    settings = Settings(_env_file=None, DATABASE_URL=cli_env["DATABASE_URL"])
    ledger = Backend(settings.ledger)
    try:
        posted = ledger.tasks.tasks_for_employer("31425360")
        for_jens = ledger.tasks.tasks_for_card("48213", limit=10)
        for_mette = ledger.tasks.tasks_for_card("51736", limit=10)
    finally:
        ledger.close()
    titles = sorted(task["title"] for task in DEMO["tasks"])
    assert sorted(t.title for t in posted) == titles
    assert all(t.status == "open" and t.places_taken == 0 for t in posted)
    assert all(t.window_start > dt.date.today() for t in posted)
    aarhus = [t.title for t in for_jens if t.municipality_code == "751"]
    assert len(aarhus) == 3 and aarhus[0] == "Bære varer ind fra lageret"  # shortest first
    assert for_mette[0].title == "Dele flyers ud på Nørrebro"


def _caps(env: dict[str, str]) -> dict[int, tuple[int, str, bool]]:
    settings = Settings(_env_file=None, DATABASE_URL=env["DATABASE_URL"])
    ledger = Backend(settings.ledger)
    try:
        return {c.year: (c.amount_ore, c.source, c.is_demo) for c in ledger.caps()}
    finally:
        ledger.close()


def test_serve_answers_healthz(tmp_path: Path) -> None:
    env = _migrated_env(tmp_path)
    port = free_port()  # not from bind(0): another worker's next bind(0) could take it
    server = subprocess.Popen([str(FRIKORT), "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60  # the start-up, on a busy machine
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
            except httpx.TransportError:
                status = None
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200, f"server did not answer /healthz (exit code {server.poll()})"
        unauthorised = httpx.get(f"http://127.0.0.1:{port}/api/v1/caps", timeout=5)
        assert unauthorised.status_code == 401
        caps = httpx.get(f"http://127.0.0.1:{port}/api/v1/caps", timeout=5,
                         headers={"Authorization": "Bearer dev-admin-key"})
        assert caps.status_code == 200 and caps.json()[0]["year"] == 2019
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert f"http://127.0.0.1:{port}/docs" in output
