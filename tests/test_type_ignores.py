"""Every `type: ignore` in the code names the error it silences and says why that is right.

mypy (configured in pyproject.toml, run first by `make test`) already fails on an ignore that
silences nothing (`warn_unused_ignores`). This asks the rest of each one: an error code in
brackets, then a comment with the reason on the same line:

    value = thing()  # type: ignore[arg-type]  # <why it is right>

Only comments count (read with `tokenize`), so text about ignores in strings is left alone.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("cpr", "ledger", "nlu", "bot", "api", "benchmarks", "tests")
"""The packages mypy checks, and the tests."""

_IGNORE = re.compile(r"#\s*type:\s*ignore(?![\w-])(?P<codes>\[[^\]]*\])?(?P<rest>.*)")
_CODE = re.compile(r"[a-z][a-z-]*")
_REASON = re.compile(r"\s*#\s*\S+\s+\S+")
"""A comment of at least two words."""


def problems_in(source: str) -> list[tuple[int, str]]:
    """(line, what is wrong) for every `type: ignore` comment in `source` that lacks an error
    code or a reason after it."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = _IGNORE.search(token.string)
        if match is None:
            continue
        codes = [code.strip() for code in (match["codes"] or "[]")[1:-1].split(",")]
        if not all(_CODE.fullmatch(code) for code in codes):
            found.append((token.start[0], "no error code, as in type: ignore[arg-type]"))
        elif not _REASON.match(match["rest"]):
            found.append((token.start[0], "no reason after it, as in  # type: ignore[code]  # why"))
    return found


def _sources() -> list[Path]:
    return sorted(path for package in CHECKED for path in (ROOT / package).rglob("*.py"))


def test_every_type_ignore_names_its_error_and_why() -> None:
    sources = _sources()
    assert len(sources) > 100, "the scan found too few files: is ROOT right?"
    problems = [f"{path.relative_to(ROOT)}:{line}: {what}"
                for path in sources
                for line, what in problems_in(path.read_text(encoding="utf-8"))]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("line", [
    "x = f()  # type: ignore",
    "x = f()  # type:ignore",
    "x = f()  # type: ignore  # a reason but no code",
    "x = f()  # type: ignore[]  # an empty code list",
    "x = f()  # type: ignore[arg-type]",
    "x = f()  # type: ignore[arg-type]   ",
    "x = f()  # type: ignore[arg-type]  #",
    "x = f()  # type: ignore[arg-type]  # why",
    "x = f()  # type: ignore[arg-type, ]  # a dangling comma",
    "x = f()  # type: ignore[call-arg, arg-type] because it is fine",
    "x = f()  # noqa: E501  # type: ignore[arg-type]",
])
def test_an_ignore_without_code_or_reason_is_found(line: str) -> None:
    assert [number for number, _ in problems_in(line + "\n")] == [1]


@pytest.mark.parametrize("source", [
    "x = f()  # type: ignore[arg-type]  # the caller passes an Audience\n",
    "x = f()  # type: ignore[call-arg, arg-type]  # environment strings, parsed by pydantic\n",
    "x = f()  #type:ignore[misc]#the refused assignment is the test\n",
    'text = "# type: ignore"  # a string, not a comment\n',
    '"""Docs may speak of # type: ignore freely."""\n',
    "x = f()  # type: ignored by nobody, only words\n",
])
def test_a_named_and_explained_ignore_passes(source: str) -> None:
    assert problems_in(source) == []


def test_the_line_of_each_problem_is_given() -> None:
    source = "a = 1\nb = g()  # type: ignore\nc = h()  # type: ignore[misc]  # it is fine\n"
    assert problems_in(source) == [(2, "no error code, as in type: ignore[arg-type]")]
