"""Every error humal_nb raises on purpose: each says what is wrong and what to do."""

from __future__ import annotations

from pathlib import Path


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
    """A notebook executed by papermill failed: names the cell and where the partial notebook is.

    Its fields, as papermill's `PapermillExecutionError` carries them: `ename` and `evalue`
    (the exception's name and message in the kernel), `cell_index` (None when the kernel could
    not run at all), `notebook_path` (the partial notebook) and `traceback_text`.
    """

    def __init__(
        self,
        message: str,
        ename: str = "",
        evalue: str = "",
        cell_index: int | None = None,
        notebook_path: Path | None = None,
        traceback_text: str = "",
    ) -> None:
        super().__init__(message)
        self.ename, self.evalue, self.cell_index = ename, evalue, cell_index
        self.notebook_path, self.traceback_text = notebook_path, traceback_text

    def __reduce__(self):  # keeps the fields across processes (grid workers)
        return (type(self), (str(self), self.ename, self.evalue, self.cell_index, self.notebook_path,
                             self.traceback_text))


class TargetExistsError(HumalError, FileExistsError):
    """A command would overwrite files that are already there (and was not told to)."""
