"""A run's folder on disk: atomic writes, and what counts as a finished run.

A run folder holds `metrics.json` (parameters and results), `attention.json` (per test review: words,
human and machine word attention, prediction; the explorer's cache), the executed
notebook, `report.html` and `model/`. `metrics.json` is written last and atomically
(temporary file + rename), so a folder with a complete `metrics.json` is a finished run
and a killed run never leaves one half-written.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from humal_nb.names import (  # noqa: F401 - a run folder's file names, used as runs.<NAME>
    ATTENTION_FILE,
    COMPARE_NOTEBOOK_FILE,
    COMPARE_REPORT_FILE,
    ERROR_FILE,
    METRICS_FILE,
    MODEL_DIR,
)

REQUIRED_METRICS = (
    "strategy", "model", "data_size", "imbalance_ratio", "minority_label", "bootstrap", "seed",
    "auc", "accuracy", "f1", "n_train", "n_test", "epochs", "alpha", "train_seconds",
    "history", "attention",
)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a file so that readers see either the old content or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would create it: reports are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(_clean(data), indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def is_complete(run_dir: str | Path) -> bool:
    """True when the folder holds a readable metrics.json with every required field."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return False
    try:
        metrics = read_json(path)
    except (OSError, ValueError):
        return False
    return isinstance(metrics, dict) and all(key in metrics for key in REQUIRED_METRICS)


def read_metrics(run_dir: str | Path) -> dict:
    return read_json(Path(run_dir) / METRICS_FILE)


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = value.tolist()
            return _clean(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
