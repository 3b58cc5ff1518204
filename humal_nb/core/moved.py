"""Where the modules of the flat layout (before the layered subpackages) live now.

`import humal_nb.train` (or `from humal_nb import train`) still works: it gives the module's new
home, `humal_nb.experiments.train`, the very same module object, with a `FutureWarning` that
names the new path. `install()` puts the finder that does this first on `sys.meta_path`; the
package's `__init__` calls it, so nothing is imported until an old name is asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

#: old module (under humal_nb.) -> its home now (under humal_nb.)
MOVED: dict[str, str] = {
    "analysis": "measures.analysis",
    "annotate": "annotation.annotate",
    "arms": "config.arms",
    "attention": "method.attention",
    "attention_capture": "method.attention_capture",
    "bench_compare": "bench.compare",
    "bench_families": "bench.families",
    "bench_grid": "bench.grid",
    "bertviz_views": "explorer.bertviz_views",
    "compare": "analyses.compare",
    "controls": "analyses.controls",
    "errors": "core.errors",
    "export": "experiments.export",
    "faithfulness": "analyses.faithfulness",
    "figure_style": "publication.figure_style",
    "figures": "publication.figures",
    "grid": "experiments.grid",
    "grid_file": "config.grid_file",
    "grid_workers": "experiments.grid_workers",
    "importers": "data.importers",
    "inference": "method.inference",
    "job": "experiments.job",
    "losses": "method.losses",
    "markup": "core.markup",
    "model_attention": "analyses.model_attention",
    "model_cache": "method.model_cache",
    "model_card": "experiments.model_card",
    "models": "method.models",
    "names": "core.names",
    "notebooks": "experiments.notebooks",
    "package_files": "config.package_files",
    "paths": "core.paths",
    "plots": "publication.plots",
    "progress": "core.progress",
    "quiet": "core.quiet",
    "readers": "config.readers",
    "records": "cli.records",
    "replication": "analyses.replication",
    "report": "experiments.report",
    "rollout": "method.rollout",
    "run": "experiments.run",
    "runs": "config.runs",
    "small_runs": "experiments.small_runs",
    "stats": "measures.stats",
    "tables": "publication.tables",
    "tokens": "method.tokens",
    "train": "experiments.train",
    "views": "publication.views",
    "worth": "analyses.worth",
}


class _Alias(importlib.abc.Loader):
    """Loads an old name as the module at its new home (one module object, two names)."""

    def __init__(self, new: str) -> None:
        self.new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.new)

    def exec_module(self, module: ModuleType) -> None:
        """The module ran when it was imported under its new name."""

    def get_code(self, fullname: str):  # `python -m humal_nb.<old>` runs the new module
        spec = importlib.util.find_spec(self.new)
        return spec.loader.get_code(self.new)


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.partition(".")
        if package != "humal_nb" or name not in MOVED:
            return None
        new = f"humal_nb.{MOVED[name]}"
        warnings.warn(f"{fullname} moved to {new}: import it from there ({fullname} will be removed in a "
                      "later release)", FutureWarning, stacklevel=3)
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))


def install() -> None:
    """Put the finder of moved modules first on `sys.meta_path` (once)."""
    if not any(isinstance(finder, _MovedFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())


def lazy_names(package: str, home: str, names: tuple[str, ...] | None = None) -> Callable[[str], Any]:
    """A package's module `__getattr__` that gives the names a module of it had before it became a
    package: `names`, or every name in `home`'s `__all__`, loaded from `home` on first use. A
    submodule's name is left to the import system (`from humal_nb.explorer import views`)."""
    import importlib.util

    def __getattr__(attr: str) -> Any:
        if not attr.startswith("_") and importlib.util.find_spec(f"{package}.{attr}") is None:
            module = importlib.import_module(home)
            if attr in (names if names is not None else module.__all__):
                return getattr(module, attr)
        raise AttributeError(f"module {package!r} has no attribute {attr!r}")

    return __getattr__
