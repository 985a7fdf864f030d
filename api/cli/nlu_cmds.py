"""`frikort nlu ...`: filled in by the NLU work (issue 3)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Danish NLU: parse, evaluate, train")
