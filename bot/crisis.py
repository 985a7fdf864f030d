"""Crisis detection from phrase lists: never dependent on the classifier alone."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from bot.textmatch import contains_phrase, fold


@cache
def _phrases() -> dict[str, tuple[str, ...]]:
    text = resources.files("bot").joinpath("data/crisis.da.yml").read_text("utf-8")
    return {kind: tuple(fold(p) for p in phrases) for kind, phrases in yaml.safe_load(text).items()}


@cache
def _frustration() -> tuple[str, ...]:
    text = resources.files("bot").joinpath("data/frustration.da.yml").read_text("utf-8")
    return tuple(fold(p) for p in yaml.safe_load(text))


def crisis_kind(text: str) -> str | None:
    """The kind of crisis the message speaks of (suicide, self_harm, overdose, violence), if any."""
    folded = fold(text)
    for kind, phrases in _phrases().items():
        if any(contains_phrase(folded, phrase) for phrase in phrases):
            return kind
    return None


def is_frustrated(text: str) -> bool:
    folded = fold(text)
    return any(contains_phrase(folded, phrase) for phrase in _frustration())
