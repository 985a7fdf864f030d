"""`frikort users add|list`, and the documented demo console users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.bootstrap import Backend
from api.cli import app as cli_app
from sampledata.demo import demo_data, seed_staff
from tests.api.console.conftest import CHEAP_ARGON2
from tests.ledger.support import make_config, prepare_database
from tests.production_env import PRODUCTION_SECRETS

ROOT = Path(__file__).resolve().parents[3]
GOOD = "en-lang-nok-adgang"


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    prepare_database(url)
    return {"DATABASE_URL": url, "ENVIRONMENT": "development"}


@pytest.fixture
def ledger(cli_env: dict[str, str]) -> Iterator[Backend]:
    """The same database, read with the test's keys (staff accounts hold no CPR)."""
    the_ledger = Backend(make_config(cli_env["DATABASE_URL"], staff=CHEAP_ARGON2))
    yield the_ledger
    the_ledger.close()


def users(cli_env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, ["users", *args], input=stdin, env=cli_env)
    return result.exit_code, result.output


def test_add_with_password_from_stdin_then_log_in(cli_env: dict[str, str], ledger: Backend) -> None:
    code, out = users(cli_env, "add", "Anna", "--role", "caseworker", "--municipality", "751",
                      "--name", "Anna Berg", "--password-stdin", stdin=GOOD + "\n")
    assert code == 0, out
    assert out.strip() == "user anna added (caseworker, municipality 751)"
    principal = ledger.staff.authenticate("anna", GOOD, "cli-test")
    assert (principal.display_name, principal.municipality_code) == ("Anna Berg", "751")
    assert GOOD not in out


def test_add_asks_for_the_password_twice(cli_env: dict[str, str], ledger: Backend) -> None:
    code, out = users(cli_env, "add", "root", "--role", "admin",
                      stdin=f"{GOOD}\n{GOOD}\n")
    assert code == 0, out
    assert "user root added (admin)" in out and GOOD not in out
    assert ledger.staff.authenticate("root", GOOD, "cli-test").is_admin
    code, out = users(cli_env, "add", "other", "--role", "admin",
                      stdin=f"{GOOD}\nnot-the-same-one\n")
    assert code != 0
    assert [a.username for a in ledger.staff.list_users()] == ["root"]


@pytest.mark.parametrize(("args", "password", "code"), [
    (["--role", "boss"], GOOD, "invalid_role"),
    (["--role", "caseworker"], GOOD, "municipality_required"),
    (["--role", "caseworker", "--municipality", "999"], GOOD, "municipality_not_found"),
    (["--role", "caseworker", "--municipality", "751"], "kort", "invalid_password"),
])
def test_bad_input_is_refused_with_its_code(
    cli_env: dict[str, str], ledger: Backend, args: list[str], password: str, code: str,
) -> None:
    exit_code, out = users(cli_env, "add", "bo", *args, "--password-stdin",
                           stdin=password + "\n")
    assert exit_code == 2 and out.startswith(f"{code}: "), out
    assert ledger.staff.list_users() == []


def test_a_taken_username_is_refused(cli_env: dict[str, str]) -> None:
    args = ["add", "bo", "--role", "admin", "--password-stdin"]
    assert users(cli_env, *args, stdin=GOOD + "\n")[0] == 0
    code, out = users(cli_env, *args, stdin=GOOD + "\n")
    assert code == 2 and "username_taken: Brugernavnet bo er allerede i brug." in out


def test_list_shows_every_account(cli_env: dict[str, str], ledger: Backend) -> None:
    assert users(cli_env, "list") == (0, "")
    ledger.staff.add_user("zoe", GOOD, "employer_consultant", "101", "Zoe Z")
    ledger.staff.add_user("adam", GOOD, "admin", None, "Adam A")
    code, out = users(cli_env, "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].split()[:4] == ["adam", "admin", "-", "active"]
    assert lines[1].split()[:4] == ["zoe", "employer_consultant", "101", "active"]
    assert "$argon2" not in out


def test_demo_console_users_are_seeded_once_and_documented(ledger: Backend) -> None:
    staff = demo_data()["staff"]
    expected = [user["username"] for user in staff["users"]]
    assert seed_staff(ledger.staff) == expected
    assert seed_staff(ledger.staff) == []
    roles = {a.username: (a.role, a.municipality_code) for a in ledger.staff.list_users()}
    assert roles["admin"] == ("admin", None)
    assert {roles[name][1] for name in expected if roles[name][0] == "caseworker"} == {
        holder["municipality_code"] for holder in demo_data()["card_holders"]}
    assert "employer_consultant" in {role for role, _ in roles.values()}
    for name in expected:
        assert ledger.staff.authenticate(name, staff["password"], "demo").username == name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert staff["password"] in readme and all(f"`{name}`" in readme for name in expected)


def test_demo_seed_adds_the_console_users_outside_production(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli_app, ["demo", "seed"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "demo console users added: admin" in result.output


def test_demo_seed_leaves_the_console_users_out_in_production(
    cli_env: dict[str, str], ledger: Backend,
) -> None:
    production = {**cli_env, **PRODUCTION_SECRETS}
    result = CliRunner().invoke(cli_app, ["demo", "seed"], env=production)
    assert result.exit_code == 0, result.output
    assert "console users" not in result.output
    assert ledger.staff.list_users() == []
