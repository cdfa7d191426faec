"""The package's layers: every import runs one way, no module is part of an import cycle, and
importing any command's module first still gives the full command group.

The layers, lowest first: errors/version → registry → models → analysis → measure → studies →
report → cli. A module may import its own layer or a lower one. The package root
(`archstat/__init__.py`) is the public API: it may import any layer below cli, and only cli may
import it. Imports are read with `ast`, at module level and inside functions alike (also those
under `if TYPE_CHECKING:`), so a deferred import cannot hide a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "archstat"
LAYERS = ("errors", "version", "registry", "models", "analysis", "measure", "studies", "report", "cli")
RANK = {"errors": 0, "version": 0, "registry": 1, "models": 2, "analysis": 3, "measure": 4, "studies": 5,
        "report": 6, "cli": 8, "__main__": 8}
ROOT = "archstat"
ROOT_RANK = 7            # above every library layer, below cli


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def rank(module: str) -> int:
    """The layer of a module of the package."""
    if module == ROOT:
        return ROOT_RANK
    return RANK[module.split(".")[1]]


def _resolve(name: str) -> str | None:
    """The package module an imported name lives in: the longest prefix that is a module."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def imports_of(module: str) -> Iterator[tuple[str, int]]:
    """(imported package module, line) for every import in the module's source, nested ones included."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from archstat.x import y` imports the module archstat.x.y when there is one, else a name of archstat.x
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                yield target, node.lineno


GRAPH: dict[str, set[str]] = {m: {t for t, _ in imports_of(m)} for m in MODULES}
# `archstat/models/__init__.py` imports every family module through pkgutil, which `ast` cannot see.
GRAPH["archstat.models"] |= {m for m in MODULES if m.startswith("archstat.models.") and "._" not in m}


def test_every_module_has_a_layer() -> None:
    assert {m.split(".")[1] for m in MODULES if m != ROOT} - {f"{layer}" for layer in LAYERS} <= {"__main__"}


def test_imports_run_one_way() -> None:
    wrong = [
        f"{MODULES[m].relative_to(PACKAGE.parent)}:{line} imports {target}"
        for m in MODULES for target, line in imports_of(m)
        if rank(target) > rank(m) or (target == ROOT and rank(m) < ROOT_RANK)
    ]
    assert wrong == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    components.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert sorted(c for c in strongly_connected(graph) if len(c) > 1) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert [c for c in strongly_connected(GRAPH) if len(c) > 1] == []


def test_the_checks_see_a_violation() -> None:
    """A registry that imports the zoo is caught by both checks (the old `_ensure_loaded`)."""
    source = "def f():\n    import archstat.models  # noqa\n"
    tree = ast.parse(source)
    (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.Import)]
    target = _resolve(node.names[0].name)
    assert target == "archstat.models" and rank(target) > rank("archstat.registry")
    graph = {**GRAPH, "archstat.registry": GRAPH["archstat.registry"] | {"archstat.models"}}
    assert any("archstat.registry" in c for c in strongly_connected(graph) if len(c) > 1)


CLI_MODULES = sorted(m for m in MODULES if m.startswith("archstat.cli"))


@pytest.mark.parametrize("module", CLI_MODULES)
def test_importing_any_command_first_gives_every_command(module: str) -> None:
    from archstat.cli.main import COMMANDS

    code = f"import {module}; from archstat.cli import cli; print(' '.join(sorted(cli.commands)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == sorted(c.name for c in COMMANDS if c.name)


# Heavy packages only some commands need: a command that does not use them must not pay for importing them.
LAZY = ("plotly", "pandas", "kaleido", "fvcore", "transformers", "PIL", "playwright")
RUN_COMMAND = (
    "import contextlib, io, sys\n"
    "from archstat.cli.main import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    code = main(sys.argv[1:])\n"
    f"print(code, *sorted({{name.partition('.')[0] for name in sys.modules}} & set({LAZY!r})))\n"
)


@pytest.mark.parametrize("args", [["summary", "lenet5"], ["summary", "lenet5", "--format", "json"], ["rf", "lenet5"],
                                  ["rf", "--stack", "3x3x3"], ["list"]], ids=" ".join)
def test_a_command_imports_no_heavy_package_it_does_not_use(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", RUN_COMMAND, *args], capture_output=True, text=True, check=False,
                          cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"], f"imported at start-up: {done.stdout.split()[1:]}"
