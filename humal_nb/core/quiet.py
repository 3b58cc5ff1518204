"""The one place that quiets transformers: no weight-loading progress bars, no warnings.

- `silence_transformers()`: for the rest of the process (a notebook kernel, a grid worker).
- `quiet_transformers()`: within a block, restored afterwards (a saved run's model loaded
  into a command's output or a report).

Imports only transformers' logging module (no torch), so a notebook that trains nothing
starts quickly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from transformers.utils import logging as hf_logging


def silence_transformers() -> None:
    """No weight-loading progress bars and no warnings from transformers for the rest of the process."""
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """No weight-loading progress bars and no warnings from transformers within the block;
    the previous verbosity and progress bars are restored afterwards."""
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    silence_transformers()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


__all__ = ["quiet_transformers", "silence_transformers"]
