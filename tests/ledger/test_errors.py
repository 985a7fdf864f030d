"""Every refusal has a unique stable code and a Danish message whose placeholders are filled.

Statically: every place in the tree (ledger/, api/, bot/) that builds a DomainError passes
every placeholder its message needs. Dynamically: the service tests format the message of
every refusal they provoke (`test_service.refused`); here each class is formatted with the
parameters found at its call sites.
"""

from __future__ import annotations

import ast
import string
from collections import defaultdict
from importlib import resources
from pathlib import Path

import pytest
import yaml

from db.errors import DomainError, all_error_classes, danish_message
from ledger import errors

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("ledger", "api", "bot")
CLASSES = {cls.__name__: cls for cls in all_error_classes()}


def _messages() -> dict[str, str]:
    text = resources.files("db").joinpath("data/errors.da.yml").read_text("utf-8")
    return dict(yaml.safe_load(text))


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def _python_files() -> list[Path]:
    return [p for top in SCANNED if (ROOT / top).is_dir() for p in (ROOT / top).rglob("*.py")
            if "migrations" not in p.parts]


def _call_sites() -> dict[str, list[tuple[str, set[str] | None]]]:
    """class name -> [(where, keyword names or None when **kwargs are passed)]."""
    sites: dict[str, list[tuple[str, set[str] | None]]] = defaultdict(list)
    for path in _python_files():
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else None)
            if name not in CLASSES or name in {"DomainError"}:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if any(kw.arg is None for kw in node.keywords):
                sites[name].append((where, None))
            else:
                sites[name].append((where, {kw.arg for kw in node.keywords if kw.arg}))
    return sites


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in all_error_classes()]
    duplicates = {code for code in codes if codes.count(code) > 1}
    assert not duplicates
    # Every class declares its own code rather than inheriting its parent's.
    for cls in all_error_classes():
        assert "code" in vars(cls), f"{cls.__name__} inherits its code"


def test_every_code_has_a_danish_message() -> None:
    messages = _messages()
    missing = [cls.code for cls in all_error_classes() if cls.code not in messages]
    assert not missing
    for cls in all_error_classes():
        text = messages[cls.code]
        assert isinstance(text, str) and text.strip()
        assert text.strip()[-1] in ".?!)}", f"{cls.code}: a sentence, please"
        # Danish, not a developer's English: the messages name frikort, CVR, etc.
        english = ("the", "error", "invalid", "not")
        assert not any(word in text.lower().split() for word in english), text


def test_messages_are_well_formed_templates() -> None:
    for code, text in _messages().items():
        for _, field, spec, conversion in string.Formatter().parse(text):
            if field is not None:
                assert field.isidentifier(), f"{code}: odd placeholder {field!r}"
                assert not spec and not conversion, f"{code}: keep placeholders plain"


def test_every_error_class_in_the_tree_has_a_message() -> None:
    """Classes defined anywhere in the tree that subclass a ledger error, found by reading code."""
    messages = _messages()
    known = set(CLASSES)
    for path in _python_files():
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                     for b in node.bases}
            if not bases & known:
                continue
            for stmt in node.body:
                target = (stmt.targets[0] if isinstance(stmt, ast.Assign) else
                          stmt.target if isinstance(stmt, ast.AnnAssign) else None)
                value = getattr(stmt, "value", None)
                if (isinstance(target, ast.Name) and target.id == "code"
                        and isinstance(value, ast.Constant)):
                    assert value.value in messages, f"{path}:{node.lineno} {value.value}"


def test_call_sites_fill_every_placeholder() -> None:
    messages = _messages()
    sites = _call_sites()
    assert sites, "the scan found no call sites at all: the scanner is broken"
    problems = []
    for name, calls in sites.items():
        needed = _placeholders(messages[CLASSES[name].code])
        for where, given in calls:
            if given is None:
                continue  # **params: checked dynamically by the service tests
            if needed - given:
                problems.append(f"{where}: {name} lacks {sorted(needed - given)}")
    assert not problems, "\n".join(problems)


def test_call_sites_format_without_error() -> None:
    for name, calls in _call_sites().items():
        for where, given in calls:
            exc = CLASSES[name](**{key: "x" for key in (given or set())})
            if given is None:
                continue
            assert exc.message, where


@pytest.mark.parametrize("cls", all_error_classes(), ids=lambda c: c.__name__)
def test_each_class_formats_with_its_placeholders(cls: type[DomainError]) -> None:
    needed = _placeholders(danish_message(cls.code))
    exc = cls("detail for the log", **{key: f"<{key}>" for key in needed})
    for key in needed:
        assert f"<{key}>" in exc.message
    assert exc.code in str(exc)
    if needed:  # and a missing parameter is a loud error, not a silent "{number}"
        with pytest.raises(KeyError):
            _ = cls().message


def test_tree_shape() -> None:
    """The three families the API maps to HTTP statuses; every class is in exactly one."""
    families = (errors.InvalidInput, errors.NotFound, errors.Conflict)
    for cls in all_error_classes():
        if cls in (DomainError, *families):
            continue
        assert sum(issubclass(cls, family) for family in families) == 1, cls
