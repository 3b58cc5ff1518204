"""humal_nb: fine-tune transformer classifiers so their attention aligns with human attention.

Modules follow the paper (HuMAL: Human-Machine Attention Learning):
`data` (Yelp-HAT and generic human attention), `tokens` (word <-> sub-word alignment),
`attention` (machine attention, eq. 1), `losses` (eq. 2/4), `models` (strategies),
`train` (one run), `run` (a finished run: its parameters, attention, model and predictions),
`analysis` (sec. V-E), `grid` and `report` (experiment grids).

`humal_nb.Run` and `humal_nb.RunConfig` are the two names most code needs; they load on first
use, so `import humal_nb` stays light (no torch).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: public names of the top level, loaded on first use: name -> module
_LAZY = {"Run": "humal_nb.run", "RunConfig": "humal_nb.config"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'humal_nb' has no attribute {name!r}")


__all__ = ["Run", "RunConfig", "__version__"]
