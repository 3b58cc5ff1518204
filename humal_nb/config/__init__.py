"""What a run is told and which files it reads: `RunConfig` and its parameters, the rationale
arms, grid files, presets shipped with the package, the validating readers and run folders.

`from humal_nb.config import RunConfig` (and every name of `humal_nb.config.run_config`) works as before."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

#: names that import from this package: they live in `humal_nb.config.run_config` (loaded on first use)
_HOME = "humal_nb.config.run_config"


def __getattr__(attr: str) -> Any:
    if not attr.startswith("_") and importlib.util.find_spec(f"{__name__}.{attr}") is None:  # not a submodule
        home = importlib.import_module(_HOME)
        if attr in home.__all__:
            return getattr(home, attr)
    raise AttributeError(f"module 'humal_nb.config' has no attribute {attr!r}")
