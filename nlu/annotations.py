"""Rasa's inline entity annotations, parsed to plain text plus spans (our code, Rasa's grammar).

Accepted forms, as in Rasa 3.x training data:
    [600 kr](amount)                         entity type only; the value is the text
    [to](hours:2)                            type plus a synonym value
    [3.200]{"entity": "amount", "value": "3200.00"}   a JSON dict (may carry role/group)
    [x][{"entity": "a"}, {"entity": "b"}]    a JSON list of dicts (several entities on one span)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["AnnotatedEntity", "AnnotatedText", "AnnotationError", "parse_annotated"]

# `[text]` followed by `(type)`, `(type:value)`, `{json dict}` or `[json list of dicts]`.
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)"
    r"|(?P<dict>\{[^}]+?\})"
    r"|\[(?P<list>\{.*?\}(?:\s*,\s*\{.*?\})*)\])"
)


class AnnotationError(ValueError):
    """An annotation is present but cannot be read (bad JSON, no entity name)."""


@dataclass(frozen=True)
class AnnotatedEntity:
    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class AnnotatedText:
    text: str
    entities: tuple[AnnotatedEntity, ...]


def _dicts(raw: str) -> list[dict[str, Any]]:
    try:
        loaded = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"invalid entity JSON {raw!r}: {exc.msg}") from exc
    items = loaded if isinstance(loaded, list) else [loaded]
    if not items or not all(
        isinstance(d, dict) and isinstance(d.get("entity"), str) for d in items
    ):
        raise AnnotationError(f'entity annotation {raw!r} needs an "entity" name')
    return items


def _entities_of(match: re.Match[str], start: int) -> list[AnnotatedEntity]:
    surface = match.group("text")
    end = start + len(surface)
    if match.group("entity") is not None:
        value = match.group("value") or surface
        return [AnnotatedEntity(match.group("entity").strip(), value.strip(), start, end)]
    raw = match.group("dict") or f"[{match.group('list')}]"
    return [
        AnnotatedEntity(d["entity"].strip(), str(d.get("value", surface)).strip(), start, end)
        for d in _dicts(raw)
    ]


def parse_annotated(example: str) -> AnnotatedText:
    """Strip annotations from one training example and return the plain text with entity spans.

    Raises:
        AnnotationError: an annotation's JSON is malformed or lacks an entity name.
    """
    parts: list[str] = []
    entities: list[AnnotatedEntity] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(example):
        before = example[cursor : match.start()]
        parts.append(before)
        length += len(before)
        entities.extend(_entities_of(match, length))
        parts.append(match.group("text"))
        length += len(match.group("text"))
        cursor = match.end()
    parts.append(example[cursor:])
    return AnnotatedText("".join(parts), tuple(entities))
