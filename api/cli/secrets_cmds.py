"""`frikort secrets generate`: a fresh set of every secret we generate, for a `.env` file."""

from __future__ import annotations

import typer

from api.secret_policy import generate

app = typer.Typer(no_args_is_help=True, help="Secrets for a production .env file")


@app.command("generate")
def generate_command() -> None:
    """Prints NAME=value lines with fresh random values (32 bytes each); nothing is stored.

    Keep CPR_ENCRYPTION_KEY and CPR_HASH_KEY once data exists: stored CPR numbers can be read
    and found only with the keys they were written with.
    """
    for name, value in generate().items():
        typer.echo(f"{name}={value}")
