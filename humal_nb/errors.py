"""Every error humal_nb raises on purpose: each says what is wrong and what to do."""

from __future__ import annotations


class HumalError(Exception):
    """Base class of humal_nb's own errors."""


class DataFormatError(HumalError, ValueError):
    """A data file, row or map that cannot be read as the format says."""


class DataNotFoundError(HumalError, FileNotFoundError):
    """The data directory or its files are missing."""


class NotEnoughDataError(HumalError, ValueError):
    """The pool cannot fill the requested training/test cell."""


class ParameterError(HumalError, ValueError):
    """A run or grid parameter that is unknown, of the wrong type or out of range."""


class ModelError(HumalError, ValueError):
    """A base model that cannot be found offline, or whose attention cannot be read."""


class NotebookError(HumalError, RuntimeError):
    """A notebook executed by papermill failed: names the cell and where the partial notebook is."""
