"""`frikort keys create|list|revoke`: the key printed once, listed without it, revoked."""

from __future__ import annotations

import os
import re

from typer.testing import CliRunner

from api.bootstrap import Backend
from api.cli import app as cli_app
from tests.ledger.support import employer_with_card, fast_ledger, make_config


def _run(url: str, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "ENVIRONMENT"))}
    env.update(DATABASE_URL=url, ENVIRONMENT="development")
    result = CliRunner().invoke(cli_app, ["keys", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_create_list_revoke(db_url: str) -> None:
    ledger = fast_ledger(db_url)
    cvr, _ = employer_with_card(ledger)
    ledger.close()
    code, out, err = _run(db_url, "create", "--name", "Løn A/S", "--employer", cvr)
    assert code == 0, (out, err)
    [secret] = re.findall(r"^frk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$", out, re.M)
    assert out.startswith(f"key 1 for CVR {cvr} (Løn A/S):") and "Shown once" in err
    code, out, _ = _run(db_url, "create", "--name", "Aarhus", "--municipality", "751")
    assert code == 0 and out.startswith("key 2 for kommune 751")

    code, listed, _ = _run(db_url, "list")
    assert code == 0 and secret not in listed
    lines = listed.splitlines()
    assert len(lines) == 2 and lines[0].split()[0] == "2" and "active" in lines[1]
    assert f"frk_{secret[4:16]}_…" in lines[1] and "last used -" in lines[1]

    check = Backend(make_config(db_url))
    try:
        assert check.api_keys.authenticate(secret) is not None
        code, out, _ = _run(db_url, "revoke", "1")
        assert code == 0 and "revoked" in out
        assert check.api_keys.authenticate(secret) is None
    finally:
        check.close()
    assert _run(db_url, "revoke", "99")[0] == 2
    assert _run(db_url, "create", "--name", "X")[0] == 2           # neither scope given
    assert _run(db_url, "create", "--name", "X", "--employer", "12345678")[0] == 2  # bad CVR
