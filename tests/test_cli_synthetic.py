"""`frikort ledger generate`, the real command on a temporary SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.production_env import PRODUCTION_SECRETS

FRIKORT = Path(sys.executable).parent / "frikort"
pytestmark = pytest.mark.skipif(not FRIKORT.exists() and not IN_CI,
                                reason="the frikort entry point is not installed (with CI set "
                                       "these tests run, and fail without it)")


def _run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("DATABASE_", "ADMIN_", "CPR_", "ENVIRONMENT"))}
    environment.update(HOME=str(home), DATABASE_URL=f"sqlite:///{home / 'frikort.db'}", **env)
    return subprocess.run([str(FRIKORT), *args], env=environment, cwd=home,
                          capture_output=True, text=True, timeout=300)


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
