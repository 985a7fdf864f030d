"""The `frikort` command in-process, as a subprocess would run it (a subprocess costs seconds of
start-up here). For tests of what a command does; tests of the entry point itself, or of a
server, still start the real process.

`run_frikort(args, env=..., cwd=...)` runs the Typer app with exactly the environment `env`
(variables of this process that `env` leaves out are unset meanwhile), in the folder `cwd`, and
returns what `subprocess.run(..., capture_output=True, text=True)` would: the exit code, stdout
and stderr apart, and the traceback of an unexpected exception on stderr as Python prints it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app


def run_frikort(args: Sequence[str], *, env: Mapping[str, str], cwd: Path | str,
                input: str | None = None) -> subprocess.CompletedProcess[str]:
    environment: dict[str, str | None] = {name: None for name in os.environ if name not in env}
    environment.update(env)
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(app, list(args), env=environment, input=input)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return subprocess.CompletedProcess(["frikort", *args], result.exit_code, result.stdout,
                                       stderr)
