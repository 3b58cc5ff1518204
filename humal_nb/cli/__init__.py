"""The command line (`humal-nb`): the commands and the record blocks they write into the docs.

`humal_nb.cli:main` is the console script."""

from __future__ import annotations

import importlib
from typing import Any

#: names that import from this package: they live in `humal_nb.cli.commands` (loaded on first use)
_NAMES = ['main', 'build_parser']


def __getattr__(attr: str) -> Any:
    if attr in _NAMES:
        return getattr(importlib.import_module("humal_nb.cli.commands"), attr)
    raise AttributeError(f"module 'humal_nb.cli' has no attribute {attr!r}")
