"""The import direction api → outreach → bot → {nlu, ledger}, checked on the source with `ast`.

Only the ledger talks to the database (SQLAlchemy) and only api/ talks to the messaging
providers (telegram, twilio). Imports inside functions and `if TYPE_CHECKING:` blocks count
too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cpr", "ledger", "nlu", "bot", "outreach", "api")

FORBIDDEN: dict[str, set[str]] = {
    "cpr": {"ledger", "nlu", "bot", "outreach", "api"},  # the CPR parser: a leaf every package may use
    "ledger": {"bot", "nlu", "outreach", "api"},
    "nlu": {"ledger", "bot", "outreach", "api"},
    "bot": {"outreach", "api"},  # the dialogue answers; it never starts a conversation
    "outreach": {"nlu", "api"},  # rules, texts and consent of the messages we write first
    "api": set(),
}
ONLY_UNDER: dict[str, set[str]] = {
    "sqlalchemy": {"ledger"},
    "alembic": {"ledger"},
    "telegram": {"api"},
    "twilio": {"api"},
}


def imported_modules(source: str, module: str) -> Iterator[tuple[int, str]]:
    """Absolute names of every module imported by a file (relative imports resolved)."""
    tree = ast.parse(source)
    package_parts = module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:  # `from ledger import db` may name a submodule
                yield node.lineno, f"{name}.{alias.name}"
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield node.lineno, arg.value


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in {"import_module", "__import__"} and bool(node.args)


def package_imports(package: str) -> Iterator[tuple[str, int, str]]:
    """(file, line, imported top-level name) for every .py file under a package."""
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        module = ".".join(relative.with_suffix("").parts)
        if module.endswith(".__init__"):
            module = module[: -len(".__init__")] + ".x"
        for line, name in imported_modules(path.read_text(encoding="utf-8"), module):
            yield str(relative), line, name.split(".")[0]


def violations(package: str) -> list[str]:
    found = []
    for file, line, top in package_imports(package):
        if top in FORBIDDEN[package]:
            found.append(f"{file}:{line} imports {top}")
        allowed = ONLY_UNDER.get(top)
        if allowed is not None and package not in allowed:
            found.append(f"{file}:{line} imports {top} (only {', '.join(sorted(allowed))} may)")
    return found


def test_the_walker_sees_known_imports() -> None:
    """Self-check: a walker that finds nothing would pass every rule below."""
    ledger_imports = {(file, top) for file, _, top in package_imports("ledger")}
    assert ("ledger/facade.py", "sqlalchemy") in ledger_imports
    assert any(top == "ledger" for _, top in ledger_imports), "relative/absolute self-imports"
    api_imports = {top for _, _, top in package_imports("api")}
    assert {"ledger", "fastapi"} <= api_imports


def test_the_walker_catches_every_import_form() -> None:
    source = (
        "import api.app\n"
        "from bot import engine\n"
        "from .. import nlu\n"
        "def f():\n"
        "    import sqlalchemy as sa\n"
        "    return __import__('telegram')\n"
        "import importlib\n"
        "importlib.import_module('twilio.rest')\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from nlu.types import Parse\n"
    )
    names = {name.split(".")[0] for _, name in imported_modules(source, "ledger.service.x")}
    assert {"api", "bot", "sqlalchemy", "telegram", "twilio", "nlu", "importlib"} <= names
    relative = {name for _, name in imported_modules("from .. import rules\n", "ledger.service.x")}
    assert "ledger.rules" in relative


@pytest.mark.parametrize("package", PACKAGES)
def test_import_direction(package: str) -> None:
    assert violations(package) == []
