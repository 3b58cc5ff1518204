"""humal_nb: fine-tune transformer classifiers so their attention aligns with human attention.

The package is in layers (docs/architecture.md), bottom first: `core`, `config` (parameters and
the files a run reads), `data` (Yelp-HAT and generic human attention), `method` (paper sec. III:
tokens, attention, losses, models), `measures` (sec. V-E analyses and statistics), `experiments`
(one run, grids, reports), `analyses` (compare, replication, controls), `publication` (figures
and tables), `explorer`, `annotation`, `bench` and `cli`. Imports go down the layers, never up.
Modules of the flat layout before it (`humal_nb.train`, ...) still import, with a warning that
names their new home.

`humal_nb.Run` and `humal_nb.RunConfig` are the two names most code needs; they load on first
use, so `import humal_nb` stays light (no torch).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: public names of the top level, loaded on first use: name -> module
_LAZY = {"Run": "humal_nb.experiments.run", "RunConfig": "humal_nb.config.run_config"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'humal_nb' has no attribute {name!r}")


def _install_moved() -> None:
    from humal_nb.core.moved import install

    install()


_install_moved()

__all__ = ["Run", "RunConfig", "__version__"]
