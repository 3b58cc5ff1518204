"""A run's folder on disk: atomic writes, and what counts as a finished run.

A run folder holds `metrics.json` (parameters and results), `attention.json` (per test review: words,
human and machine word attention, prediction; the explorer's cache), the executed
notebook, `report.html` and `model/`. `metrics.json` is written last and atomically
(temporary file + rename), so a folder with a complete `metrics.json` is a finished run
and a killed run never leaves one half-written. A new run in a folder that holds a finished
one sets it aside first and puts it back if the new run fails (`set_aside_finished_run`,
`restore_finished_run`), so a bad run never costs a good one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from humal_nb.config import readers
from humal_nb.core.names import (  # noqa: F401 - a run folder's file names, used as runs.<NAME>
    ATTENTION_FILE,
    BASELINE_DIR,
    BERTVIZ_CACHE_FILE,
    CACHE_FILES,
    COMPARE_NOTEBOOK_FILE,
    COMPARE_REPORT_FILE,
    ERROR_FILE,
    EXECUTED_NOTEBOOK,
    FAILED_NOTEBOOK,
    FAITHFULNESS_CACHE_FILE,
    METRICS_FILE,
    MODEL_DIR,
    PREVIOUS_RUN_DIR,
    READINGS_CACHE_FILE,
    REPORT_FILE,
    SET_ASIDE_DONE,
)

REQUIRED_METRICS = readers.REQUIRED_METRICS


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a file so that readers see either the old content or the whole new one."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """`atomic_write_text` for bytes (figures, parquet tables): a temporary file beside `path`,
    flushed to disk, then renamed over it; a writer killed at any point leaves the old file or the new."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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
    """True when the folder holds a finished run's metrics.json (`readers.read_metrics` accepts it)."""
    return readers.finished(run_dir)


def read_metrics(run_dir: str | Path) -> dict:
    """A finished run's metrics.json, checked (`readers.read_metrics`)."""
    return readers.read_metrics(run_dir)


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


# ---------------------------------------------------------------------- replacing a run
# what a run (and `humal-nb compare` on it) writes: cleared before a new run in the same folder
RUN_OUTPUTS = (METRICS_FILE, ATTENTION_FILE, ERROR_FILE, MODEL_DIR, BASELINE_DIR,
               EXECUTED_NOTEBOOK, REPORT_FILE, COMPARE_NOTEBOOK_FILE, COMPARE_REPORT_FILE)


def clear_run_dir(run_dir: str | Path) -> None:
    """Remove a run folder's previous outputs, `metrics.json` first (only humal_nb's own files)."""
    run_dir = Path(run_dir)
    for name in RUN_OUTPUTS:
        path = run_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def set_aside_finished_run(out: Path) -> Path | None:
    """Move a finished run's outputs into `out/.previous_run/` (None when there is none);
    clear whatever else a run writes. A set-aside left by a killed attempt is put back first.

    Every step can be killed without losing the finished run: `metrics.json` leaves the folder
    first and comes back last (so the folder never looks finished while parts are elsewhere),
    and `.previous_run/.complete` says whether the set-aside had ended (then the folder holds
    only the killed attempt's files, which are cleared) or not (then the folder still holds the
    rest of the finished run, which stays)."""
    kept = out / PREVIOUS_RUN_DIR
    if kept.is_dir():
        if is_complete(out):
            shutil.rmtree(kept)  # the attempt had finished: its run stands
        else:
            if (kept / SET_ASIDE_DONE).exists():
                clear_run_dir(out)  # the killed attempt's partial outputs
                (kept / SET_ASIDE_DONE).unlink()
            _move_outputs(kept, out)
            shutil.rmtree(kept)
    if not is_complete(out):
        clear_run_dir(out)
        return None
    kept.mkdir()
    _move_outputs(out, kept)
    (kept / SET_ASIDE_DONE).touch()
    return kept


def restore_finished_run(out: Path, kept: Path) -> Path | None:
    """Put a set-aside run back after a failed attempt; the failed notebook, if any, is
    renamed to `train_strategy.failed.ipynb` and returned."""
    failed = None
    partial = out / EXECUTED_NOTEBOOK
    if partial.is_file():
        failed = out / FAILED_NOTEBOOK
        partial.replace(failed)
    clear_run_dir(out)
    (kept / SET_ASIDE_DONE).unlink(missing_ok=True)  # from here on the folder holds only restored files
    _move_outputs(kept, out)
    shutil.rmtree(kept)
    return failed


def drop_set_aside(out: Path, kept: Path) -> None:
    """After a run has finished: remove the set-aside previous run `kept`, first moving its
    baseline's compare caches into the new `baseline/` where it has none (the HuMAL run's own
    caches never left the folder). A cache whose key no longer matches is not read, so a
    retrained baseline with the same weights reads them and a changed one replaces them."""
    old, new = kept / BASELINE_DIR, out / BASELINE_DIR
    if old.is_dir() and new.is_dir():
        for name in CACHE_FILES:
            if (old / name).is_file() and not (new / name).exists():
                (old / name).replace(new / name)
    shutil.rmtree(kept)


def _move_outputs(src: Path, dst: Path) -> None:
    """Move a run's outputs; `metrics.json` first out of a folder and last into one. What is
    already in `dst` under the same name is replaced."""
    names = [n for n in RUN_OUTPUTS if n != METRICS_FILE]
    order = [METRICS_FILE, *names] if dst.name == PREVIOUS_RUN_DIR else [*names, METRICS_FILE]
    for name in order:
        source, target = src / name, dst / name
        if source.exists() or source.is_symlink():
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            source.replace(target)
