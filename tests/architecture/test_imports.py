"""Which package may import which (ARCHITECTURE.md), checked on the source with `ast`.

Every package may import only the packages below it; no module imports itself back through
others. Only the persistence packages talk to the database (SQLAlchemy) and only api/ talks
to the messaging providers (telegram, twilio). Imports inside functions and
`if TYPE_CHECKING:` blocks count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BELOW: dict[str, set[str]] = {
    "cpr": set(),  # the CPR parser and masker
    "danish": set(),  # kroner, dates, GSM-7, wording
    "nlu": {"cpr", "danish"},
    "db": {"cpr", "danish"},  # the database kernel
    "ledger": {"db", "cpr", "danish"},  # the money core
    "conversations": {"ledger", "db", "cpr", "danish"},
    "staff": {"conversations", "ledger", "db", "cpr", "danish"},
    "casework": {"staff", "conversations", "ledger", "db", "cpr", "danish"},
    "smalljobs": {"staff", "conversations", "ledger", "db", "cpr", "danish"},
    "api_keys": {"ledger", "db", "cpr", "danish"},
    "outreach": {"smalljobs", "conversations", "ledger", "db", "cpr", "danish"},
    "privacy": {"smalljobs", "staff", "conversations", "ledger", "db", "cpr", "danish"},
    "bot": {"nlu", "outreach", "smalljobs", "conversations", "ledger", "db", "cpr", "danish"},
    "sampledata": {"bot", "nlu", "staff", "smalljobs", "conversations", "ledger", "db", "cpr",
                   "danish"},
}
"""What each package may import besides itself; api/ (the composition root) may import all."""
PACKAGES = (*BELOW, "api")
FORBIDDEN: dict[str, set[str]] = {
    package: set(PACKAGES) - below - {package} for package, below in BELOW.items()}
FORBIDDEN["api"] = set()
PERSISTENCE = {"db", "ledger", "conversations", "staff", "casework", "smalljobs", "api_keys",
               "outreach", "privacy", "sampledata"}
ONLY_UNDER: dict[str, set[str]] = {
    "sqlalchemy": PERSISTENCE,
    "alembic": {"db"},
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
    assert ("ledger/service/reports.py", "sqlalchemy") in ledger_imports
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


def test_the_layers_form_no_circle() -> None:
    """Read as a graph, BELOW has no cycle: every package sits strictly above what it uses."""
    done: set[str] = set()

    def visit(package: str, path: tuple[str, ...]) -> None:
        assert package not in path, " -> ".join((*path, package))
        if package not in done:
            for lower in BELOW.get(package, set()):
                visit(lower, (*path, package))
            done.add(package)

    for package in BELOW:
        visit(package, ())


def module_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports. `from x import y` counts as x.y when y is a
    module, else as x (the module that defines or re-exports y)."""
    files = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            files[module.removesuffix(".__init__")] = path

    def known(name: str) -> str:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets |= {known(f"{node.module}.{alias.name}") for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {known(alias.name) for alias in node.names}
        graph[module] = {target for target in targets if target and target != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(graph.get(child, set())))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    """The old circle (facade -> casework -> facade) or any new one fails here."""
    graph = module_graph()
    assert "ledger.facade" in graph and "db.kernel" in graph["ledger.facade"]
    assert cycles(graph) == []
