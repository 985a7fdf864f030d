"""Placeholder until the ledger lands."""

import typer

app = typer.Typer(no_args_is_help=True)
caps_app = typer.Typer(no_args_is_help=True)
