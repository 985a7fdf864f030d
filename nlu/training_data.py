"""Reader for Rasa 3.x NLU training data (YAML), kept apart from the components that learn from it.

Malformed blocks are reported with the file name and skipped, as Rasa does, so one typo does not
stop training; `strict=True` (used by `frikort nlu train` and the tests) turns them into errors.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlu.annotations import AnnotatedEntity, AnnotationError, parse_annotated
from nlu.errors import TrainingDataError

__all__ = [
    "TrainingData",
    "TrainingDataWarning",
    "TrainingExample",
    "load_training_data",
    "read_training_file",
    "split_response_key",
    "training_files",
]

KEY_VERSION = "version"
KEY_NLU = "nlu"
KEY_INTENT = "intent"
KEY_SYNONYM = "synonym"
KEY_REGEX = "regex"
KEY_LOOKUP = "lookup"
KEY_EXAMPLES = "examples"
KEY_METADATA = "metadata"
KEY_TEXT = "text"
_BLOCK_KEYS = (KEY_INTENT, KEY_SYNONYM, KEY_REGEX, KEY_LOOKUP)
_EXAMPLE_PREFIX = "- "


class TrainingDataWarning(UserWarning):
    """A malformed block was skipped; the message names the file."""


@dataclass(frozen=True)
class TrainingExample:
    text: str
    intent: str
    entities: tuple[AnnotatedEntity, ...] = ()
    source: str = ""
    response_key: str | None = None
    """Rasa's `intent_response_key` ("faq_limit/what_counts") for a retrieval intent's example;
    `intent` is then the part before the slash, which the intent classifier learns."""


@dataclass
class TrainingData:
    """Everything read from one or more files; `problems` lists what was skipped and why."""

    examples: list[TrainingExample] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    @property
    def response_keys(self) -> list[str]:
        """Every `intent/key` of the retrieval intents, for the response selector."""
        return sorted({e.response_key for e in self.examples if e.response_key})

    @property
    def retrieval_intents(self) -> list[str]:
        """The intents whose examples carry response keys (Rasa's `all_retrieval_intents`)."""
        return sorted({e.intent for e in self.examples if e.response_key})

    def merge(self, other: TrainingData) -> None:
        self.examples.extend(other.examples)
        self.synonyms.update(other.synonyms)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)
        for name, items in other.lookups.items():
            self.lookups.setdefault(name, []).extend(items)
        self.problems.extend(other.problems)


def _example_lines(block: dict[str, Any]) -> list[str]:
    """The examples of a block: a `|` string of "- " lines, or a list of strings / {text: ...}."""
    raw = block.get(KEY_EXAMPLES)
    if isinstance(raw, str):
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        bad = [line for line in lines if not line.startswith(_EXAMPLE_PREFIX.strip())]
        if bad:
            raise ValueError(f"example lines must start with '- ', got {bad[0]!r}")
        return [line[1:].strip() for line in lines if line[1:].strip()]
    if isinstance(raw, list):
        items = [item.get(KEY_TEXT) if isinstance(item, dict) else item for item in raw]
        if not all(isinstance(item, str) for item in items):
            raise ValueError("examples must be strings or {text: ...} items")
        return [str(item).strip() for item in items if str(item).strip()]
    raise ValueError("has no examples")


class _FileReader:
    """Reads one file; one small method per block type, as Rasa's RasaYAMLReader does."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.data = TrainingData()
        self.raw_problems: list[str] = []

    def problem(self, message: str) -> None:
        text = f"Issue found while processing '{self.filename}': {message}"
        self.raw_problems.append(message)
        self.data.problems.append(text)
        warnings.warn(text, TrainingDataWarning, stacklevel=4)

    def read(self, content: Any) -> TrainingData:
        if content is None:
            return self.data
        if not isinstance(content, dict):
            raise TrainingDataError(self.filename, "the top level must be a mapping")
        if KEY_VERSION not in content:
            self.problem(f"no '{KEY_VERSION}' key (Rasa 3.x expects version: \"3.1\")")
        blocks = content.get(KEY_NLU, [])
        if not isinstance(blocks, list):
            raise TrainingDataError(self.filename, f"'{KEY_NLU}' must be a list of blocks")
        for index, block in enumerate(blocks, start=1):
            self._block(index, block)
        return self.data

    def _block(self, index: int, block: Any) -> None:
        kinds = [key for key in _BLOCK_KEYS if isinstance(block, dict) and key in block]
        if len(kinds) != 1:
            self.problem(f"block {index} must have exactly one of {', '.join(_BLOCK_KEYS)}")
            return
        kind = kinds[0]
        name = block[kind]
        if not isinstance(name, str) or not name.strip():
            self.problem(f"block {index} has an empty or non-text {kind} name")
            return
        try:
            lines = _example_lines(block)
        except ValueError as exc:
            self.problem(f"{kind} '{name}' {exc}")
            return
        if not lines:
            self.problem(f"{kind} '{name}' has no examples")
            return
        getattr(self, f"_parse_{kind}")(name.strip(), lines)

    def _parse_intent(self, name: str, lines: list[str]) -> None:
        intent, response_key = split_response_key(name)
        if response_key is None and "/" in name:
            self.problem(f"intent '{name}' must be 'intent/key' with one slash and no spaces")
            return
        for line in lines:
            try:
                annotated = parse_annotated(line)
            except AnnotationError as exc:
                self.problem(f"intent '{name}': {exc}")
                continue
            example = TrainingExample(annotated.text, intent, annotated.entities, self.filename,
                                      response_key)
            self.data.examples.append(example)
            for entity in annotated.entities:
                surface = annotated.text[entity.start : entity.end]
                if entity.value != surface:  # `[to](hours:2)` is an implicit synonym
                    self.data.synonyms[surface] = entity.value

    def _parse_synonym(self, value: str, lines: list[str]) -> None:
        for line in lines:
            self.data.synonyms[line] = value

    def _parse_regex(self, name: str, lines: list[str]) -> None:
        self.data.regexes.setdefault(name, []).extend(lines)

    def _parse_lookup(self, name: str, lines: list[str]) -> None:
        self.data.lookups.setdefault(name, []).extend(lines)


_RESPONSE_KEY = re.compile(r"^([a-z][a-z0-9_]*)/([a-z][a-z0-9_]*)$")


def split_response_key(name: str) -> tuple[str, str | None]:
    """"faq_limit/what_counts" → ("faq_limit", "faq_limit/what_counts"); a plain intent →
    (intent, None). A malformed name with a slash is returned unsplit with None."""
    match = _RESPONSE_KEY.match(name)
    if match is None:
        return name, None
    return match.group(1), name


def read_training_file(path: Path, *, strict: bool = False) -> TrainingData:
    """Read one Rasa 3.x NLU YAML file.

    Raises:
        TrainingDataError: the file is not valid YAML or not NLU data; with `strict`, also any
            malformed block (otherwise those are skipped with a TrainingDataWarning).
    """
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TrainingDataError(path.name, f"not valid YAML: {exc}") from exc
    reader = _FileReader(path.name)
    data = reader.read(content)
    if strict and reader.raw_problems:
        raise TrainingDataError(path.name, "; ".join(reader.raw_problems))
    return data


def training_files(data_dir: Path) -> list[Path]:
    """The training files in a directory, in a stable order (the cache key depends on it)."""
    return sorted([*data_dir.glob("*.yml"), *data_dir.glob("*.yaml")])


def load_training_data(data_dir: Path | Iterable[Path], *, strict: bool = False) -> TrainingData:
    """Read every *.yml / *.yaml file in `data_dir` (or the given files) into one TrainingData."""
    files = training_files(data_dir) if isinstance(data_dir, Path) else list(data_dir)
    merged = TrainingData()
    for path in files:
        merged.merge(read_training_file(path, strict=strict))
    return merged
