"""`frikort ledger generate`, the real command (in-process, tests/cli_runner.py) on a temporary
SQLite database."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cli_runner import run_frikort
from tests.production_env import PRODUCTION_SECRETS


def _run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("DATABASE_", "ADMIN_", "CPR_", "ENVIRONMENT"))}
    environment.update(HOME=str(home), DATABASE_URL=f"sqlite:///{home / 'frikort.db'}", **env)
    return run_frikort(args, env=environment, cwd=home)


def test_generates_once_and_then_refuses(tmp_path: Path) -> None:
    first = _run(tmp_path, "ledger", "generate", "--scale", "0.002", "--seed", "5")
    assert first.returncode == 0, first.stderr
    assert "wage_reports                 1000" in first.stdout
    assert "(scale 0.002, seed 5)" in first.stdout
    again = _run(tmp_path, "ledger", "generate", "--scale", "0.002")
    assert again.returncode == 2
    assert "synthetic_database_not_empty" in again.stderr


def test_never_in_production(tmp_path: Path) -> None:
    refused = _run(tmp_path, "ledger", "generate", "--scale", "0.002",
                   **PRODUCTION_SECRETS)
    assert refused.returncode == 2, refused.stderr
    assert "never goes into a production database" in refused.stderr
    assert not (tmp_path / "frikort.db").exists()
