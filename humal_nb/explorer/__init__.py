"""The interactive explorer: the example browser, the attention views and the bertviz views.

`from humal_nb.explorer import example_browser` works as before."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

#: names that import from this package: they live in `humal_nb.explorer.browser` (loaded on first use)
_HOME = "humal_nb.explorer.browser"


def __getattr__(attr: str) -> Any:
    if not attr.startswith("_") and importlib.util.find_spec(f"{__name__}.{attr}") is None:  # not a submodule
        home = importlib.import_module(_HOME)
        if attr in home.__all__:
            return getattr(home, attr)
    raise AttributeError(f"module 'humal_nb.explorer' has no attribute {attr!r}")
