"""The bot's Danish replies, loaded from bot/texts/da.yml and filled in by name."""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def _texts() -> dict[str, str]:
    """Flat keys; a section (a mapping, like `jobs:`) gives "jobs.<key>", so a family of
    replies stays together in the file without clashing with the older flat names."""
    raw = resources.files("bot").joinpath("texts/da.yml").read_text("utf-8")
    found: dict[str, str] = {}

    def add(prefix: str, section: dict[str, object]) -> None:
        for key, value in section.items():
            if isinstance(value, dict):  # "voice.crisis.suicide": sections may nest
                add(f"{prefix}{key}.", value)
            else:
                found[f"{prefix}{key}"] = " ".join(str(value).split())
    add("", yaml.safe_load(raw))
    return found


def text(key: str, **values: Any) -> str:
    """The reply `key` with its placeholders filled; a missing value is a programming error."""
    return _texts()[key].format(**values)


def template(key: str) -> str:
    """The unfilled text, for templates filled in by a helper (like the hours wording)."""
    return _texts()[key]


def keys() -> frozenset[str]:
    return frozenset(_texts())


def placeholders(key: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(_texts()[key]) if name}
