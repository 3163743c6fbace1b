"""The package's shape: modules import one way only (no cycles, also not through
``TYPE_CHECKING`` blocks or imports inside functions), so each can be read bottom-up."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import bot

PACKAGE = Path(bot.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each module of ``bot`` -> the modules of ``bot`` it imports, wherever the import is."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from bot.daily import schedule`` imports the module bot.daily.schedule.
                targets = [
                    f"{node.module}.{alias.name}"
                    if f"{node.module}.{alias.name}" in modules
                    else node.module
                    for alias in node.names
                ]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles, each as the path that closes it (Tarjan's strongly connected
    components of more than one module, shown from their first module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_type_checking_and_function_level_imports() -> None:
    graph = import_graph()
    assert "bot.daily.schedule" in graph["bot.daily.service"] | graph["bot.daily.deliveries"]
    assert "bot.app" in graph["bot.__main__"]  # imported inside a function
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_readme_module_map_names_every_module() -> None:
    """README's "How it is built" table: every module of bot/ is there (by path, or in its
    package's row by file name), and every path it names exists."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `bot/")]
    named: set[str] = set()
    for row in rows:
        paths = re.findall(r"`(bot/[^`]*)`", row)
        named.update(paths)
        for package in (p for p in paths if p.endswith("/")):
            named.update(package + f for f in re.findall(r"`([a-z_]+\.py)`", row))
    modules = {
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" and "data" not in p.relative_to(PACKAGE).parts
    }
    assert sorted(modules - named) == [], "modules missing from README's module map"
    missing = [p for p in named if not (PACKAGE.parent / p).exists()]
    assert missing == [], "README's module map names files that do not exist"
