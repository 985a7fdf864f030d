"""The console's Danish words from `api/data/console.yml`, read once."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def texts() -> dict[str, Any]:
    text = resources.files("api").joinpath("data/console.yml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


def error_text(code: str) -> dict[str, str]:
    """Title and advice for an error page; unknown codes get the general one."""
    errors: dict[str, dict[str, str]] = texts()["errors"]
    return errors.get(code, errors["error"])
