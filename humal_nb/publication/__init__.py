"""Figures and tables for a paper: what a folder holds (`folders`), the paper's figures and
tables, the plot helpers and their style.

The names of `humal_nb.publication.folders` import from here as before."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

#: names that import from this package: they live in `humal_nb.publication.folders` (loaded on first use)
_HOME = "humal_nb.publication.folders"


def __getattr__(attr: str) -> Any:
    if not attr.startswith("_") and importlib.util.find_spec(f"{__name__}.{attr}") is None:  # not a submodule
        home = importlib.import_module(_HOME)
        if attr in home.__all__:
            return getattr(home, attr)
    raise AttributeError(f"module 'humal_nb.publication' has no attribute {attr!r}")
