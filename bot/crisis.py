"""Crisis detection from phrase lists: never dependent on the classifier alone."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from bot.textmatch import contains_words, fold


@cache
def _phrases() -> dict[str, tuple[str, ...]]:
    text = resources.files("bot").joinpath("data/crisis.da.yml").read_text("utf-8")
    return {kind: tuple(fold(p) for p in phrases) for kind, phrases in yaml.safe_load(text).items()}


@cache
def _frustration() -> tuple[str, ...]:
    text = resources.files("bot").joinpath("data/frustration.da.yml").read_text("utf-8")
    return tuple(fold(p) for p in yaml.safe_load(text))


@cache
def _crisis_words() -> dict[str, tuple[tuple[str, ...], ...]]:
    """The phrases split into words once, not for every message."""
    return {kind: tuple(tuple(p.split()) for p in phrases) for kind, phrases in _phrases().items()}


@cache
def _frustration_words() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split()) for p in _frustration())


def crisis_kind(text: str) -> str | None:
    """The kind of crisis the message speaks of (suicide, self_harm, overdose, violence), if any."""
    words = fold(text).split()
    for kind, phrases in _crisis_words().items():
        if any(contains_words(words, phrase) for phrase in phrases):
            return kind
    return None


def is_frustrated(text: str) -> bool:
    words = fold(text).split()
    return any(contains_words(words, phrase) for phrase in _frustration_words())
