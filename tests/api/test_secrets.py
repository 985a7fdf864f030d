"""Production secrets: weak, missing, development and repeated values are refused at start-up,
by the server and by every CLI command that touches data; `frikort secrets generate` makes a
set that passes.

Before this check an empty SESSION_SECRET started a production server whose console accepted
a cookie signed with the empty key, and ADMIN_API_KEY=a was accepted.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli_app
from api.secret_policy import SECRETS, InsecureSettings, bits_per_symbol, generate
from api.settings import DEV_ADMIN_API_KEY, Settings
from tests.production_env import PRODUCTION_SECRETS

NAMES = [spec.name for spec in SECRETS]


def _production(**overrides: str) -> Settings:
    values = {**PRODUCTION_SECRETS, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]  # strings, parsed by pydantic


def test_a_generated_set_passes_and_differs_every_time() -> None:
    first, second = generate(), generate()
    assert list(first) == NAMES
    assert _production(**first).secret_problems() == []
    assert not set(first.values()) & set(second.values())
    assert len(base64.b64decode(first["CPR_ENCRYPTION_KEY"])) == 32


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("SESSION_SECRET", "", "is not set"),
    ("ADMIN_API_KEY", "a", "is too short: 1 characters"),
    ("ADMIN_API_KEY", DEV_ADMIN_API_KEY, "is too short"),
    ("METRICS_TOKEN", "a" * 64, "too regular"),
    ("TELEGRAM_WEBHOOK_SECRET", "ab" * 32, "too regular"),
    ("SESSION_SECRET", "x1y2z3" * 8, "too regular"),
    ("CPR_HASH_KEY", base64.b64encode(b"h" * 40).decode(), "too regular"),
    ("CPR_HASH_KEY", base64.b64encode(bytes(range(16))).decode(), "is too short: 16 bytes"),
    ("CPR_ENCRYPTION_KEY", base64.b64encode(bytes(range(48))).decode(), "exactly 32 bytes"),
    ("CPR_ENCRYPTION_KEY", "not base64 at all!" * 3, "is not base64"),
])
def test_each_weak_secret_is_one_line_naming_it(name: str, value: str, reason: str) -> None:
    problems = _production(**{name: value}).secret_problems()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{name} ") and reason in problems[0]
    if len(value) > 3:
        assert value not in problems[0]  # the value itself is never printed


def test_development_values_and_repeats_are_refused() -> None:
    development = Settings(_env_file=None)
    values = {name: getattr(development, name) for name in
              ("SESSION_SECRET", "CPR_ENCRYPTION_KEY", "CPR_HASH_KEY")}
    problems = _production(**{k: v.get_secret_value() for k, v in values.items()}
                           ).secret_problems()
    assert [p.split(" ")[0] for p in problems] == [
        "SESSION_SECRET", "CPR_ENCRYPTION_KEY", "CPR_HASH_KEY"]
    assert all("public development value" in p for p in problems)
    shared = PRODUCTION_SECRETS["ADMIN_API_KEY"]
    [repeat] = _production(METRICS_TOKEN=shared).secret_problems()
    assert repeat.startswith("METRICS_TOKEN is the same as ADMIN_API_KEY")


def test_development_needs_none_of_it() -> None:
    assert Settings(_env_file=None, SESSION_SECRET="").secret_problems() == []


def test_the_server_refuses_to_start_with_an_empty_session_secret(tmp_path: Path) -> None:
    settings = _production(SESSION_SECRET="", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(InsecureSettings) as refused:
        create_app(settings)
    assert refused.value.code == "insecure_settings"
    assert [p.split(" ")[0] for p in refused.value.problems] == ["SESSION_SECRET"]


def test_the_shannon_estimate() -> None:
    assert bits_per_symbol("") == 0 and bits_per_symbol("aaaa") == 0
    assert bits_per_symbol("abab") == 1
    assert bits_per_symbol(bytes(range(256))) == 8


def test_cli_commands_that_touch_data_refuse_with_one_line_per_problem(tmp_path: Path) -> None:
    database = tmp_path / "refused.db"
    env = {**PRODUCTION_SECRETS, "DATABASE_URL": f"sqlite:///{database}",
           "SESSION_SECRET": "", "ADMIN_API_KEY": "a"}
    for command in (["db", "upgrade"], ["caps", "list"], ["users", "list"],
                    ["retention", "run", "--dry-run"], ["demo", "seed"]):
        result = CliRunner().invoke(cli_app, command, env=env)
        assert result.exit_code == 2, (command, result.output)
        lines = result.output.strip().splitlines()
        assert [line.split(" ")[1] for line in lines] == ["ADMIN_API_KEY", "SESSION_SECRET"]
        assert all(line.startswith("refused: ") for line in lines)
    assert not database.exists()


def test_secrets_generate_prints_a_dotenv_set() -> None:
    result = CliRunner().invoke(cli_app, ["secrets", "generate"])
    assert result.exit_code == 0, result.output
    pairs = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    assert list(pairs) == NAMES
    assert _production(**pairs).secret_problems() == []
