"""The package's layers (docs/architecture.md): imports go down the layers or stay within one, never
up; no module imports another in a circle; no private name (`_x`) is imported from another layer;
no function is over 60 lines. An AST walk over humal_nb/, so a new import is checked as it is written.

Imports under `if __name__ == "__main__":` (a module's `python -m` entry) and `if TYPE_CHECKING:`
are not dependencies of the library and are left out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from humal_nb.paths import PACKAGE_DIR

#: the layers, bottom first: a module may import from its own layer and the ones below
LAYERS: dict[str, tuple[str, ...]] = {
    "core": ("humal_nb", "names", "errors", "paths", "quiet", "progress", "markup"),
    "parameters": ("config", "arms", "grid_file", "package_files", "readers", "runs"),
    "data": ("data", "data.common", "data.facts", "data.generic", "data.rationales", "data.selection",
             "data.shortcut", "data.split", "data.yelp_hat", "importers"),
    "method": ("attention_capture", "attention", "losses", "tokens", "models", "inference", "model_cache",
               "rollout"),
    "measures": ("analysis", "stats"),
    "experiments": ("train", "model_card", "run", "notebooks", "job", "grid_workers", "grid", "small_runs",
                    "export", "report"),
    "analyses": ("faithfulness", "model_attention", "compare", "replication", "controls", "worth"),
    "publication": ("figure_style", "plots", "publication", "figures", "tables", "views", "bertviz_views",
                    "explorer"),
    "interface": ("annotate", "records", "cli", "__main__", "bench", "bench_compare", "bench_families",
                  "bench_grid"),
}
LAYER_OF = {module: i for i, modules in enumerate(LAYERS.values()) for module in modules}
NAMES = list(LAYERS)


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
                if node.module == "humal_nb" and target in LAYER_OF:
                    found.append((target, "", node.lineno))  # from humal_nb import data
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


def _graph() -> dict[str, list[tuple[str, str, int]]]:
    graph = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        name = _module_name(path)
        name = "humal_nb" if name == "humal_nb" else name
        graph[name] = [(m, n, line) for m, n, line in _imports(ast.parse(path.read_text())) if m != name]
    return graph


GRAPH = _graph()


def test_every_module_has_a_layer():
    assert sorted(set(GRAPH) - set(LAYER_OF)) == [], "add the new module to a layer here and in docs/architecture.md"


def test_no_import_goes_up_a_layer():
    upward = [f"{module} ({NAMES[LAYER_OF[module]]}) imports {target} ({NAMES[LAYER_OF[target]]}) at line {line}"
              for module, imports in GRAPH.items() for target, _, line in imports
              if target in LAYER_OF and LAYER_OF[target] > LAYER_OF[module]]
    assert upward == []


def test_no_private_name_crosses_a_layer():
    borrowed = [f"{module} imports {target}.{name} at line {line}"
                for module, imports in GRAPH.items() for target, name, line in imports
                if name.startswith("_") and not name.startswith("__") and LAYER_OF.get(target) != LAYER_OF[module]]
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
    tree = ast.parse("from humal_nb.cli import _x\nif __name__ == '__main__':\n    from humal_nb import bench\n")
    assert _imports(tree) == [("cli", "_x", 1)]
