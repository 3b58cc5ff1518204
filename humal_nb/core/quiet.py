"""The one place that quiets transformers: no weight-loading progress bars, no warnings.

- `silence_transformers()`: for the rest of the process (a notebook kernel, a grid worker).
- `quiet_transformers()`: within a block, restored afterwards (a saved run's model loaded
  into a command's output or a report).

`silence_transformers()` imports nothing when transformers is not loaded yet: it sets the
environment transformers reads when it is (`TRANSFORMERS_VERBOSITY`, `HF_HUB_DISABLE_PROGRESS_BARS`),
so a notebook that runs no model (a warm report) never loads it. `quiet_transformers()` imports
only transformers' logging module (no torch).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: what transformers (and the hub's bars) read when they are imported
QUIET_ENVIRONMENT = {"TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


def silence_transformers() -> None:
    """No weight-loading progress bars and no warnings from transformers for the rest of the process."""
    os.environ.update(QUIET_ENVIRONMENT)
    if "transformers" in sys.modules:  # already loaded: it read the environment before
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """No weight-loading progress bars and no warnings from transformers within the block;
    the previous verbosity and progress bars are restored afterwards."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    silence_transformers()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


__all__ = ["quiet_transformers", "silence_transformers"]
