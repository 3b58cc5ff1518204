"""The package's layers (docs/architecture.md): imports go down the layers or stay within one, never
up; no module imports another in a circle; no private name (`_x`) is imported from another layer;
no function is over 60 lines. An AST walk over humal_nb/, so a new import is checked as it is written.

Imports under `if __name__ == "__main__":` (a module's `python -m` entry) and `if TYPE_CHECKING:`
are not dependencies of the library and are left out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from humal_nb.core.paths import PACKAGE_DIR

#: the layers, bottom first, each a subpackage of humal_nb: a module may import from its own
#: subpackage and the ones below (the package root, holding no logic, counts as `core`; `__main__`,
#: the `python -m humal_nb` entry, as `cli`)
LAYERS: tuple[str, ...] = ("core", "config", "data", "method", "measures", "experiments", "analyses", "publication",
                           "explorer", "annotation", "bench", "cli")
NAMES = list(LAYERS)


def _layer(module: str) -> str | None:
    """The subpackage (layer) a module belongs to; None for a module outside every layer."""
    first = module.split(".")[0]
    return {"humal_nb": "core", "__main__": "cli"}.get(first, first if first in LAYERS else None)



def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "humal_nb"


def _skipped(node: ast.If) -> bool:
    text = ast.unparse(node.test)
    return text in ("__name__ == '__main__'", "TYPE_CHECKING", "typing.TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[tuple[str, str, int]]:
    """(module, imported name or '', line) of every humal_nb import, outside skipped blocks."""
    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _skipped(node):
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "humal_nb":
            for alias in node.names:
                target = f"{node.module}.{alias.name}".removeprefix("humal_nb.")
                if target in MODULES:
                    found.append((target, "", node.lineno))  # from humal_nb.method import tokens
                else:
                    found.append((node.module.removeprefix("humal_nb").lstrip(".") or "humal_nb", alias.name,
                                  node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "humal_nb":
                    found.append((alias.name.removeprefix("humal_nb").lstrip(".") or "humal_nb", "", node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = {_module_name(path) for path in PACKAGE_DIR.rglob("*.py")}


def _graph() -> dict[str, list[tuple[str, str, int]]]:
    graph = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        name = _module_name(path)
        graph[name] = [(m, n, line) for m, n, line in _imports(ast.parse(path.read_text())) if m != name]
    return graph


GRAPH = _graph()


def _rank(module: str) -> int:
    return NAMES.index(_layer(module))


def test_every_module_is_in_a_layer():
    """No module sits loose in the package root: each is in one of the layers' subpackages."""
    assert sorted(m for m in GRAPH if _layer(m) is None) == [], \
        "put the new module in a layer's subpackage (docs/architecture.md)"
    loose = sorted(m for m in GRAPH if "." not in m and m not in LAYERS)
    assert loose == ["__main__", "humal_nb"], "the package root holds no module but its entry points"


def test_no_import_goes_up_a_layer():
    upward = [f"{module} ({_layer(module)}) imports {target} ({_layer(target)}) at line {line}"
              for module, imports in GRAPH.items() for target, _, line in imports
              if _layer(target) is not None and _rank(target) > _rank(module)]
    assert upward == []


def test_no_private_name_crosses_a_subpackage():
    borrowed = [f"{module} imports {target}.{name} at line {line}"
                for module, imports in GRAPH.items() for target, name, line in imports
                if name.startswith("_") and not name.startswith("__") and _layer(target) != _layer(module)]
    assert borrowed == []


def test_no_import_circle():
    edges = {m: {t for t, _, _ in imports if t in GRAPH} for m, imports in GRAPH.items()}
    edges = {m: targets - {"humal_nb"} for m, targets in edges.items()}  # the package root holds no logic
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = []
            while True:
                item = stack.pop()
                part.append(item)
                if item == node:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    assert circles == []


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_no_function_over_60_lines(path):
    long = [f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60]
    assert long == []


def test_the_check_finds_what_it_is_for(tmp_path):
    """The walk sees a circle, an upward import and a borrowed private name when they are there."""
    tree = ast.parse("from humal_nb.cli.commands import _x\nif __name__ == '__main__':\n    from humal_nb import bench\n")
    assert _imports(tree) == [("cli.commands", "_x", 1)]
    assert _layer("cli.commands") == "cli" and _rank("cli.commands") > _rank("experiments.train")
    assert _layer("humal_nb") == "core" and _layer("elsewhere") is None


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_a_module_over_500_lines_says_why(path):
    text = path.read_text()
    if text.count("\n") > 500:
        assert "Over 500 lines" in (ast.get_docstring(ast.parse(text)) or ""), "say in the module docstring why"


def test_the_old_flat_names_still_import_as_the_same_module_with_a_warning():
    import importlib
    import sys
    import warnings

    from humal_nb.core.moved import MOVED

    for old, new in sorted(MOVED.items()):
        sys.modules.pop(f"humal_nb.{old}", None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(f"humal_nb.{old}")
        assert module is importlib.import_module(f"humal_nb.{new}")
        assert any(f"humal_nb.{new}" in str(w.message) and w.category is FutureWarning for w in caught), old
    from humal_nb.cli import main
    from humal_nb.config import RunConfig, load_run_config
    from humal_nb.explorer import example_browser
    from humal_nb.publication import comparison
    assert callable(main) and callable(load_run_config) and callable(example_browser) and callable(comparison)
    assert RunConfig is importlib.import_module("humal_nb").RunConfig
