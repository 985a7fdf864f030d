"""`frikort users add|list`: console accounts from the command line (the first admin, too)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from api.cli.context import CLI_ACTOR, open_ledger
from db.errors import DomainError

app = typer.Typer(no_args_is_help=True, help="Console users (caseworkers, consultants, admins)")


@app.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="Login name: lower case, digits, . _ -")],
    role: Annotated[str, typer.Option(
        "--role", help="caseworker, employer_consultant, helper or admin")],
    municipality: Annotated[str | None, typer.Option(
        "--municipality", help="Municipality code, e.g. 751 (required except for admin)")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name shown in the console")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin")] = False,
) -> None:
    """Creates a console account; the password is asked for twice (or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_ledger() as ledger:
        try:
            user = ledger.staff.add_user(username, password, role, municipality,
                                         name or username, actor=CLI_ACTOR)
        except DomainError as error:
            typer.echo(f"{error.code}: {error.message}", err=True)
            raise typer.Exit(2) from error
    where = f", municipality {user.municipality_code}" if user.municipality_code else ""
    typer.echo(f"user {user.username} added ({user.role}{where})")


@app.command("list")
def list_users() -> None:
    """Prints every console account: username, role, municipality, active, last login."""
    with open_ledger() as ledger:
        accounts = ledger.staff.list_users()
    for account in accounts:
        last = account.last_login_at.strftime("%Y-%m-%d %H:%M") if account.last_login_at else "-"
        typer.echo(f"{account.username:<24} {account.role:<20} "
                   f"{account.municipality_code or '-':<4} "
                   f"{'active' if account.active else 'inactive':<8} {last}  "
                   f"{account.display_name}")
