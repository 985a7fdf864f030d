"""A CLI command starts without what only the server or the models need.

`frikort ledger import`, `frikort keys create` and the rest took 2,5–3,2 s to start, most
of it importing scikit-learn, the dialogue, the web framework and the Telegram library.
They are now imported by the commands that use them. A fresh interpreter shows what
importing the CLI loads.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sklearn", "scipy", "numpy", "bot.engine", "fastapi", "starlette", "telegram",
         "httpx", "uvicorn", "jinja2", "api.bootstrap", "nlu.embedded", "nlu.crisis")


def test_importing_the_cli_loads_neither_the_server_nor_the_models() -> None:
    probe = ("import json, sys\nimport api.cli\n"
             f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=120)
    assert json.loads(done.stdout) == []


def test_the_probe_sees_a_heavy_import() -> None:
    """The same probe, importing the server's composition root, names what it loads."""
    probe = ("import json, sys\nimport api.bootstrap\n"
             f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=120)
    assert {"bot.engine", "telegram", "api.bootstrap"} <= set(json.loads(done.stdout))
