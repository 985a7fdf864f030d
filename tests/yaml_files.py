"""YAML test data read with libyaml's safe loader when PyYAML has it: ten times faster than
the pure-Python one, and the scenario and corpus files are read by every pytest-xdist worker
while it collects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
