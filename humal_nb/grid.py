"""Experiment grids (paper sec. IV): many runs of the training notebook, resumable, in parallel.

Grid file format (YAML)::

    name: table3_yelp        # output folder outputs/<name>/ (default: the file's stem)
    description: free text   # optional
    bootstraps: 20           # every cell is repeated with bootstrap = 0..19 (default: once)
    vary:                    # the cross product of these lists: one cell per combination
      data_size: [250, 500, 1000, 2000]
      imbalance_ratio: [0.01, 0.02, 0.05, 0.10, 0.20, 0.50]
      strategy: [baseline, al, an, ap]
    fixed:                   # the same for every cell: only what differs from the defaults
      epochs: 10
    max_length: 256          # top-level parameters are fixed values too
    cell_notebooks: false    # run each cell through the training notebook and keep it executed
    cell_reports: false      # also export each cell's report.html (~5 MB each; implies cell_notebooks)

Without `vary` a grid is one cell (repeated `bootstraps` times); an empty `vary` is refused.
`vary` may also be a list of such mappings; the cells are then the union of their cross
products (Table IV: sizes 250-2000 for yelp50 and yelp100, but 50 and 100 for yelp200).
Every key of `vary`, `fixed` and the top level is a `RunConfig` parameter, and every cell
is validated before anything runs (the error names the key and the cell). Grids do not
save models unless they set `save_model: true`; `out_dir` is set per cell and cannot be
given. A value given twice (in `fixed` and `vary`, or twice at the top) is refused.

A grid's folder holds `grid.json` (the cells), one folder per cell named by
`RunConfig.cell_name()` (plus any other varied parameter), `summary.csv`, and the
aggregate `report.html`. A cell is finished only when `runs.is_complete(cell)`;
a rerun skips finished cells and redoes the others from a clean folder. A cell the data
cannot fill is found up front (`data.make_split`, no training; `find_unfillable`) and recorded as
`not_enough_data` in its `error.json`; a failing cell is recorded as `failed` with its
error and traceback tail; the grid goes on in both cases.

Cells run in worker processes that live for the whole grid (`init_worker`): a cell costs
its training and evaluation, not a kernel start, imports, parsing the data and loading
the base model again. Its `metrics.json` and `attention.json` are those the training
notebook would write (the same function, the same numbers). With `cell_notebooks: true`
each cell runs the training notebook instead, which is kept executed in the cell's folder.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import re
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humal_nb import runs
from humal_nb.config import NON_RESULT_KEYS, PARAMETER_NAMES, RunConfig, read_yaml
from humal_nb.errors import HumalError, NotebookError, NotEnoughDataError, ParameterError
from humal_nb.names import (
    AXES,
    LOCK_FILE,
    MANIFEST_FILE,
    STATUS_FAILED,
    STATUS_FINISHED,
    STATUS_INTERRUPTED,
    STATUS_NOT_ENOUGH_DATA,
)
from humal_nb.paths import outputs_dir

GRID_KEYS = ("name", "description", "vary", "fixed", "bootstraps", "cell_notebooks", "cell_reports")
NAMED_AXES = (*AXES, "length_group")
GRID_DEFAULTS = {"save_model": False}
DATA_KEYS = ("data_dir", "data_file", "agreement", "human_attention", "label_by", "min_highlight")



@dataclass
class Grid:
    """An expanded grid: its name, the cells' configs, the parameters that vary."""

    name: str
    cells: list[RunConfig]
    varying: list[str]
    cell_reports: bool = False
    cell_notebooks: bool = False

    def cell_names(self) -> list[str]:
        return [cell_dir_name(c, self.varying) for c in self.cells]


# ---------------------------------------------------------------------- reading a grid file
def load_grid(path_or_dict: str | Path | dict[str, Any]) -> Grid:
    """Read and validate a grid (file or mapping) into its cells; nothing runs."""
    if isinstance(path_or_dict, dict):
        spec, where, default_name = dict(path_or_dict), "grid", "grid"
    else:
        spec, where, default_name = read_yaml(path_or_dict), str(path_or_dict), Path(path_or_dict).stem
    unknown = sorted((k for k in spec if k not in GRID_KEYS and k not in PARAMETER_NAMES), key=str)
    if unknown:
        raise ParameterError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}. A grid file has {', '.join(GRID_KEYS)} "
            f"and run parameters: {', '.join(PARAMETER_NAMES)}."
        )
    name = str(spec.get("name") or default_name)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ParameterError(f"{where}: 'name' {name!r} must be a folder name (letters, digits, _ . -).")

    fixed = spec.get("fixed") or {}
    if not isinstance(fixed, dict):
        raise ParameterError(f"{where}: 'fixed' must be a mapping of parameter: value.")
    top = {k: v for k, v in spec.items() if k in PARAMETER_NAMES}
    twice = sorted(set(fixed) & set(top), key=str)
    if twice:
        raise ParameterError(f"{where}: {', '.join(map(repr, twice))} given both in 'fixed' and at the top level.")
    fixed = {**GRID_DEFAULTS, **top, **fixed}
    if fixed.get("out_dir"):
        raise ParameterError(f"{where}: 'out_dir' is set per cell in a grid; give the grid's folder with --out.")

    bootstraps = spec.get("bootstraps")
    if bootstraps is not None and (isinstance(bootstraps, bool) or not isinstance(bootstraps, int) or bootstraps < 1):
        raise ParameterError(f"{where}: 'bootstraps' must be a whole number >= 1, got {bootstraps!r}.")
    if bootstraps is not None and "bootstrap" in {**top, **(spec.get("fixed") or {})}:
        raise ParameterError(f"{where}: give either 'bootstraps: N' or a fixed 'bootstrap', not both.")
    switches = {}
    for key in ("cell_notebooks", "cell_reports"):
        switches[key] = spec.get(key, False)
        if not isinstance(switches[key], bool):
            raise ParameterError(f"{where}: {key!r} must be true or false, got {switches[key]!r}.")
    cell_reports = switches["cell_reports"]
    cell_notebooks = switches["cell_notebooks"] or cell_reports  # a report is the executed notebook's

    if "vary" in spec and not spec["vary"]:
        raise ParameterError(
            f"{where}: 'vary' is empty. List the parameters to vary with their values (vary: {{strategy: "
            "[baseline, al]}), or leave 'vary' out for a grid of one cell, repeated 'bootstraps' times."
        )
    blocks = spec.get("vary") or {}
    blocks = blocks if isinstance(blocks, list) else [blocks]
    combos: list[dict[str, Any]] = []
    for i, block in enumerate(blocks):
        label = f"{where}: vary" + (f"[{i}]" if len(blocks) > 1 else "")
        if not isinstance(block, dict):
            raise ParameterError(f"{label} must be a mapping of parameter: [values].")
        for key, values in block.items():
            if key not in PARAMETER_NAMES:
                raise ParameterError(f"{label}: unknown parameter {key!r}. Valid parameters: {', '.join(PARAMETER_NAMES)}.")
            if key in fixed and key not in GRID_DEFAULTS:
                raise ParameterError(f"{label}: {key!r} is both varied and fixed.")
            if key == "out_dir":
                raise ParameterError(f"{label}: 'out_dir' is set per cell in a grid.")
            if key == "bootstrap" and bootstraps is not None:
                raise ParameterError(f"{label}: give either 'bootstraps: N' or vary 'bootstrap', not both.")
            if not isinstance(values, list) or not values:
                raise ParameterError(f"{label}: {key!r} must be a non-empty list of values, got {values!r}.")
        keys = list(block)
        for values in itertools.product(*(block[k] for k in keys)):
            combos.append(dict(zip(keys, values)))
    combos = combos or [{}]
    if bootstraps is not None:
        combos = [{**combo, "bootstrap": b} for combo in combos for b in range(bootstraps)]

    cells: list[RunConfig] = []
    seen: set[str] = set()
    for combo in combos:
        try:
            config = RunConfig.from_dict({**fixed, **combo})
        except ParameterError as exc:
            shown = ", ".join(f"{k}={v}" for k, v in combo.items())
            raise ParameterError(f"{where}: cell ({shown}): {exc}") from exc
        key = json.dumps(config.to_dict(), sort_keys=True)
        if key not in seen:  # the union of blocks may repeat a cell
            seen.add(key)
            cells.append(config)
    varying = varying_keys(cells)
    grid = Grid(name, cells, varying, cell_reports, cell_notebooks)
    names = grid.cell_names()
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:  # pragma: no cover - cell_dir_name includes every varied key
        raise ParameterError(f"{where}: cells share the folder name(s) {', '.join(duplicates)}.")
    return grid


def varying_keys(cells: list[RunConfig]) -> list[str]:
    """The paper's axes (always), then every other parameter whose value differs across cells."""
    dicts = [c.to_dict() for c in cells]
    differ = [k for k in PARAMETER_NAMES if len({json.dumps(d[k]) for d in dicts}) > 1]
    extra = [k for k in differ if k not in AXES]
    if any(d["length_group"] for d in dicts) and "length_group" not in extra:
        extra.insert(0, "length_group")
    return [*AXES, *extra]


def expand_grid(path_or_dict: str | Path | dict[str, Any]) -> tuple[str, list[RunConfig]]:
    """(grid name, one validated RunConfig per cell) of a grid file or mapping."""
    grid = load_grid(path_or_dict)
    return grid.name, grid.cells


def _short(value: Any) -> str:
    text = Path(value).name if isinstance(value, str) and os.sep in value else f"{value:g}" if isinstance(value, float) else str(value)
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-") or "none"


def cell_dir_name(config: RunConfig, varying: list[str] | tuple[str, ...] = ()) -> str:
    """`config.cell_name()`, plus `key-value` for each other parameter the grid varies."""
    parts = [config.cell_name()]
    for key in varying:
        if key not in NAMED_AXES:
            parts.append(f"{key}-{_short(getattr(config, key))}")
    return "_".join(parts)


# ---------------------------------------------------------------------- one cell (in a worker)
# A worker process lives for the whole grid and keeps what every cell would otherwise load
# again: the imports, the parsed data sets and the base model's weights (`models.keep_base_models`).
_WORKER: dict[str, Any] = {"ready": False, "reviews": {}}


def init_worker(threads: int) -> None:
    """Set a grid worker up once: torch threads, quiet libraries, kept base models, and a
    watchdog that ends the worker when the grid process is gone (killed with -9), so that no
    orphan goes on writing into a cell that a resumed grid runs again."""
    if _WORKER["ready"]:
        return
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)  # a notebook's kernel inherits them: torch threads
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    import torch

    from humal_nb import models

    torch.set_num_threads(threads)
    models.keep_base_models()
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a requirement
        pass
    parent = os.getppid()

    def watch_parent() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    if multiprocessing.parent_process() is not None:  # a pool worker (Ray workers are Ray's)
        threading.Thread(target=watch_parent, daemon=True, name="humal-grid-watchdog").start()
    _WORKER["ready"] = True


def _cell_reviews(config: RunConfig):
    """The cell's data set, parsed once per worker and data source."""
    from humal_nb import train

    key = tuple(getattr(config, k) for k in DATA_KEYS)
    if key not in _WORKER["reviews"]:
        _WORKER["reviews"][key] = train.load_reviews(config)
    return _WORKER["reviews"][key]


def run_cell_in_process(config: RunConfig, cell_dir: str | Path) -> None:
    """Train, evaluate and save one cell in this process: what the training notebook does for
    the cell (`execute.train_run` then `execute.save_runs`), on the worker's kept data and model."""
    from humal_nb import execute, train

    config = execute.absolute_paths(config).replace(out_dir=str(Path(cell_dir).resolve()))
    reviews = _cell_reviews(config)
    baseline = None
    if config.compare_baseline and config.strategy != "baseline":
        baseline = train.train_and_evaluate(config.replace(strategy="baseline"), progress=False, reviews=reviews)
    result = train.train_and_evaluate(config, progress=False, reviews=reviews)
    execute.save_runs(config, result, baseline)


def _run_cell(config_dict: dict[str, Any], cell_dir: str, threads: int, notebook: bool, html: bool) -> dict[str, Any]:
    """Run one cell (in the worker, or through its notebook); record a failure in error.json."""
    init_worker(threads)
    started = time.perf_counter()
    config = RunConfig.from_dict(config_dict)
    try:
        if notebook:
            from humal_nb import execute

            execute.run_notebook(config, cell_dir, progress=False, html=html)
        else:
            run_cell_in_process(config, cell_dir)
        return {"status": STATUS_FINISHED, "seconds": time.perf_counter() - started}
    except NotebookError as exc:
        ename = exc.ename or type(exc).__name__
        status = {
            "NotEnoughDataError": STATUS_NOT_ENOUGH_DATA,
            "KeyboardInterrupt": STATUS_INTERRUPTED,
        }.get(ename, STATUS_FAILED)
        record = error_record(status, config, f"{ename}: {exc.evalue or exc}", str(exc), exc.traceback_text)
    except NotEnoughDataError as exc:
        record = error_record(STATUS_NOT_ENOUGH_DATA, config, f"NotEnoughDataError: {exc}", str(exc),
                              traceback.format_exc())
    except Exception as exc:  # anything else still must not stop the grid
        record = error_record(STATUS_FAILED, config, f"{type(exc).__name__}: {exc}", str(exc), traceback.format_exc())
    runs.write_json(Path(cell_dir) / runs.ERROR_FILE, record)
    return {"status": record["status"], "seconds": time.perf_counter() - started, "error": record["error"]}


def error_record(
    status: str, config: RunConfig, error: str, message: str | None = None, tb: str = ""
) -> dict[str, Any]:
    """What `error.json` holds for a cell that did not finish: status, a one-line error, the
    full message, the traceback's last lines and the cell's parameters."""
    return {
        "status": status,
        "error": error,
        "message": message or error,
        "traceback_tail": "\n".join(tb.strip().splitlines()[-15:]),
        "parameters": config.to_dict(),
    }


# ---------------------------------------------------------------------- the grid
def find_unfillable(grid: Grid, todo: list[int]) -> dict[int, NotEnoughDataError]:
    """The cells (by index) the data cannot fill, found with `make_split` alone (no training).

    A data set that cannot be read at all stops the grid here, before anything runs."""
    from humal_nb import train

    pools: dict[tuple, Any] = {}
    unfillable = {}
    for i in todo:
        config = grid.cells[i]
        key = tuple(getattr(config, k) for k in DATA_KEYS)
        if key not in pools:
            pools[key] = train.load_reviews(config)
        try:
            train.split(config, pools[key])
        except NotEnoughDataError as exc:
            unfillable[i] = exc
    return unfillable


def _reset_cell(cell_dir: Path) -> None:
    """A clean folder for a cell that is (re)run: nothing half-written survives."""
    if cell_dir.exists():
        shutil.rmtree(cell_dir)
    cell_dir.mkdir(parents=True)


def write_manifest(grid: Grid, grid_dir: Path, source: str) -> None:
    """`grid.json`: the cells and their parameters, and the code each start of the grid ran
    (`code`: this start; `code_history`: every distinct one, oldest first)."""
    names = grid.cell_names()
    code = code_version()
    history: list[dict[str, Any]] = []
    try:
        history = list(json.loads((grid_dir / MANIFEST_FILE).read_text()).get("code_history") or [])
    except (OSError, ValueError, AttributeError):
        pass
    if code not in history:
        history.append(code)
    runs.write_json(grid_dir / MANIFEST_FILE, {
        "name": grid.name,
        "source": source,
        "code": code,
        "code_history": history,
        "varying": grid.varying,
        "cells": [
            {"cell": name, "parameters": {k: getattr(c, k) for k in grid.varying}, "config": c.to_dict()}
            for name, c in zip(names, grid.cells)
        ],
    })


def code_version() -> dict[str, Any]:
    """The humal_nb version and, in a git checkout, the commit the grid runs (and whether the
    checkout has uncommitted changes): a grid's record says which code produced its cells."""
    import subprocess

    import humal_nb
    from humal_nb.paths import REPO_ROOT

    info: dict[str, Any] = {"humal_nb": humal_nb.__version__, "commit": None, "dirty": None}
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                        text=True, timeout=10, check=True).stdout.strip() or None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "humal_nb",
                                 "notebooks"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True)
        info["dirty"] = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info




@contextmanager
def grid_lock(grid_dir: Path) -> Iterator[None]:
    """Hold `grid_dir/.grid.lock` for the whole grid run: a second `humal-nb grid` on the same
    folder is refused (it would rerun and delete the cells the first one is running)."""
    import fcntl

    handle = open(grid_dir / LOCK_FILE, "a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise HumalError(
                f"another humal-nb grid ({holder}) is running in {grid_dir}. Wait for it to end or stop it "
                "(Ctrl-C keeps its finished cells), then run this command again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


def _comparable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in NON_RESULT_KEYS}


def check_finished_cells(grid: Grid, grid_dir: Path, finished: list[int]) -> None:
    """Refuse to resume when finished cells were run with other parameters than the grid now
    gives them (a changed `fixed` value keeps the cell names): their results would be reported
    under the new settings. Nothing is deleted; the error says what differs and what to do."""
    names = grid.cell_names()
    stale: list[str] = []
    for i in finished:
        try:
            before = runs.read_metrics(grid_dir / names[i]).get("parameters")
        except (OSError, ValueError):
            continue
        if not isinstance(before, dict):
            continue
        now = _comparable(grid.cells[i].to_dict())
        before = _comparable(before)
        diff = [f"{k}: {before.get(k)!r} there, {v!r} now" for k, v in now.items() if before.get(k, v) != v]
        if diff:
            stale.append(f"{names[i]} ({'; '.join(diff)})")
    if stale:
        shown = "\n  ".join(stale[:5]) + (f"\n  ... and {len(stale) - 5} more" if len(stale) > 5 else "")
        raise ParameterError(
            f"{len(stale)} finished cell(s) in {grid_dir} were run with other parameters than this grid "
            f"gives them:\n  {shown}\nTheir results are kept. To run the changed grid, give it another "
            "folder (--out DIR, or a new 'name'); to redo those cells here, move their folders away first."
        )


def run_grid(
    path: str | Path | dict[str, Any],
    workers: int = 1,
    executor: str = "local",
    out_dir: str | Path | None = None,
    progress: bool = True,
    report: bool = True,
) -> dict[str, Any]:
    """Run every unfinished cell of a grid, then write `summary.csv` and the aggregate report.

    `workers` cells run at once (each a papermill run in its own process, with
    cores // workers torch threads); `executor="ray"` hands the cells to Ray instead.
    Finished cells (from an earlier, possibly interrupted, run) are skipped. Returns the
    counts `finished` (this time), `skipped`, `not_enough_data`, `failed`, `interrupted`,
    `seconds`, and the paths `grid_dir`, `summary`, `report`. On Ctrl-C or SIGTERM no new cell
    starts, running ones stop, finished ones are kept (and KeyboardInterrupt is re-raised
    after `summary.csv` is written). A folder another grid is running in is refused, and so
    is a resume whose finished cells were run with other parameters (`check_finished_cells`).
    """
    started = time.perf_counter()
    if executor not in ("local", "ray"):
        raise ParameterError(f"executor {executor!r} is not one of 'local', 'ray'.")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a whole number >= 1, got {workers!r}.")
    if executor == "ray":
        _import_ray()
    grid = load_grid(path)
    grid_dir = Path(out_dir or outputs_dir() / grid.name).expanduser().resolve()
    created = not grid_dir.exists()
    grid_dir.mkdir(parents=True, exist_ok=True)
    try:
        with grid_lock(grid_dir):
            return _run_locked(grid, grid_dir, path, workers, executor, progress, report, started)
    except BaseException:
        if created and [p.name for p in grid_dir.iterdir()] == [LOCK_FILE]:  # stopped before writing anything
            shutil.rmtree(grid_dir, ignore_errors=True)
        raise


def _run_locked(
    grid: Grid, grid_dir: Path, path: Any, workers: int, executor: str, progress: bool, report: bool, started: float
) -> dict[str, Any]:
    names = grid.cell_names()
    runnable, counts = _plan(grid, grid_dir, path)
    tracker = _Tracker(grid.name, names, counts, len(names) - len(runnable), progress)
    threads = max(1, (os.cpu_count() or 1) // workers)
    tasks = []
    for i in runnable:
        _reset_cell(grid_dir / names[i])
        tasks.append((i, (grid.cells[i].to_dict(), str(grid_dir / names[i]), threads, grid.cell_notebooks,
                          grid.cell_reports)))
    interrupted = False
    try:
        with terminate_as_interrupt():
            run_cells(tasks, workers, threads, executor, tracker.on_done)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        tracker.close()
    return _finish(grid, grid_dir, tracker, interrupted, report, progress, started)


def _plan(grid: Grid, grid_dir: Path, path: Any) -> tuple[list[int], dict[str, int]]:
    """Before anything runs: refuse a stale resume, write grid.json, record the cells the data
    cannot fill; returns the cells to run and the counts so far."""
    names = grid.cell_names()
    done_before = {i for i, name in enumerate(names) if runs.is_complete(grid_dir / name)}
    check_finished_cells(grid, grid_dir, sorted(done_before))
    todo = [i for i in range(len(names)) if i not in done_before]
    unfillable = find_unfillable(grid, todo)
    write_manifest(grid, grid_dir, str(path) if not isinstance(path, dict) else "<dict>")
    for i, exc in unfillable.items():
        _reset_cell(grid_dir / names[i])
        runs.write_json(grid_dir / names[i] / runs.ERROR_FILE,
                        error_record(STATUS_NOT_ENOUGH_DATA, grid.cells[i], str(exc)))
    runnable = [i for i in todo if i not in unfillable]
    counts = {"cells": len(names), STATUS_FINISHED: 0, "skipped": len(done_before),
              STATUS_NOT_ENOUGH_DATA: len(unfillable), STATUS_FAILED: 0, STATUS_INTERRUPTED: 0}
    return runnable, counts


class _Tracker:
    """The grid's progress bar, its counts by status and each cell's wall time."""

    def __init__(self, name: str, names: list[str], counts: dict[str, int], initial: int, progress: bool) -> None:
        from tqdm.auto import tqdm

        self.names, self.counts, self.progress = names, counts, progress
        self.cell_seconds: dict[str, float] = {}
        self.bar = tqdm(total=len(names), initial=initial, desc=f"grid {name}", unit="cell", disable=not progress)
        self._show()

    def _show(self) -> None:
        c = self.counts
        self.bar.set_postfix(done=c[STATUS_FINISHED], skipped=c["skipped"], failed=c[STATUS_FAILED],
                             not_enough_data=c[STATUS_NOT_ENOUGH_DATA])

    def on_done(self, i: int, outcome: dict[str, Any]) -> None:
        status = outcome["status"]
        self.cell_seconds[self.names[i]] = outcome.get("wall_seconds", outcome.get("seconds", float("nan")))
        self.counts[status] = self.counts.get(status, 0) + 1
        self.bar.update(1)
        self._show()
        if status == STATUS_FAILED and self.progress:
            self.bar.write(f"cell {self.names[i]} failed: {outcome.get('error', '')}")

    def close(self) -> None:
        self.bar.close()


def _finish(
    grid: Grid, grid_dir: Path, tracker: _Tracker, interrupted: bool, report: bool, progress: bool, started: float
) -> dict[str, Any]:
    """Write summary.csv (also when interrupted, then re-raise) and the report; the result."""
    from humal_nb import report as report_module

    counts, names = tracker.counts, tracker.names
    summary_path = report_module.write_summary(grid_dir)
    result = {"name": grid.name, **counts, "seconds": time.perf_counter() - started, "grid_dir": str(grid_dir),
              "summary": str(summary_path), "report": None, "cell_seconds": tracker.cell_seconds}
    if interrupted:
        kept = sum(runs.is_complete(grid_dir / name) for name in names)
        print(f"grid {grid.name}: interrupted; {kept} finished cells of {len(names)} are kept in {grid_dir}. "
              "Run the same command again to resume.")
        raise KeyboardInterrupt
    if report:
        result["report"] = str(report_module.build_report(grid_dir))
        result["seconds"] = time.perf_counter() - started
    if progress:
        print(
            f"grid {grid.name}: {counts[STATUS_FINISHED]} finished, {counts['skipped']} skipped (done before), "
            f"{counts[STATUS_NOT_ENOUGH_DATA]} not enough data, {counts[STATUS_FAILED]} failed "
            f"in {result['seconds']:.0f} s\nsummary: {summary_path}\nreport: {result['report']}"
        )
    return result


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within it, SIGTERM (a scheduler or `kill` stopping the grid) acts as Ctrl-C: running
    cells stop, finished ones are kept, the summary is written. SIGINT stops the grid too even
    where the process inherited it ignored (a command started with `&` from a script).
    Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous_term = signal.signal(signal.SIGTERM, interrupt)
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


class _LocalPool:
    """`workers` spawned processes that live for the whole grid (`init_worker`)."""

    def __init__(self, workers: int, threads: int) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process holding torch threads
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                        initializer=init_worker, initargs=(threads,))

    def submit(self, args: tuple) -> Future:
        return self.pool.submit(_run_cell, *args)

    def wait_any(self, handles: list[Future]) -> set[Future]:
        return wait(handles, return_when=FIRST_COMPLETED)[0]

    def result(self, handle: Future) -> dict[str, Any]:
        return handle.result()

    def stop(self, handles: list[Future]) -> None:
        _stop_pool(self.pool)  # no new cell; running ones stop now and are redone on resume

    def close(self, stopped: bool) -> None:
        if not stopped:  # a stopped pool is shut down already
            self.pool.shutdown(wait=True)


class _RayPool:
    """Cells as Ray tasks of `threads` CPUs each (a local Ray instance, or the cluster in
    $RAY_ADDRESS; one this grid started is shut down after it)."""

    def __init__(self, workers: int, threads: int) -> None:
        self.ray = _import_ray()
        self.started_here = not self.ray.is_initialized()
        self.ray.init(ignore_reinit_error=True, log_to_driver=False)
        self.remote = self.ray.remote(num_cpus=threads)(_run_cell)

    def submit(self, args: tuple) -> Any:
        return self.remote.remote(*args)

    def wait_any(self, handles: list[Any]) -> list[Any]:
        return self.ray.wait(handles, num_returns=1)[0]

    def result(self, handle: Any) -> dict[str, Any]:
        return self.ray.get(handle)

    def stop(self, handles: list[Any]) -> None:
        for ref in handles:
            self.ray.cancel(ref, force=True)

    def close(self, stopped: bool) -> None:
        if self.started_here:
            self.ray.shutdown()


def _schedule(tasks: list[tuple[int, tuple]], workers: int, pool: Any, on_done) -> None:
    """Run the cells on `pool`, at most `workers` at a time; `on_done(i, outcome)` as each ends,
    with its wall time from submission. A worker that died is recorded as a failed cell."""
    args_of = dict(tasks)
    pending = list(reversed(tasks))
    running: dict[Any, tuple[int, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                i, args = pending.pop()
                running[pool.submit(args)] = (i, time.perf_counter())
            for handle in pool.wait_any(list(running)):
                i, submitted = running.pop(handle)
                try:
                    outcome = pool.result(handle)
                except Exception as exc:  # the worker process died (killed, out of memory)
                    outcome = _worker_died(args_of[i], exc)
                on_done(i, {**outcome, "wall_seconds": time.perf_counter() - submitted})
    except BaseException:
        pool.stop(list(running))
        raise


def run_cells(tasks: list[tuple[int, tuple]], workers: int, threads: int, executor: str, on_done) -> None:
    """Run the cells (index, `_run_cell` arguments) on the local pool or Ray."""
    if not tasks:
        return
    pool = _RayPool(workers, threads) if executor == "ray" else _LocalPool(min(workers, len(tasks)), threads)
    stopped = True
    try:
        _schedule(tasks, workers, pool, on_done)
        stopped = False
    finally:
        pool.close(stopped)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's workers and their notebook kernels (which run in their own sessions,
    so Ctrl-C does not reach them; left alone they would exit about a second after their worker)."""
    workers = list(getattr(pool, "_processes", {}).values())
    kernels = []
    try:
        import psutil  # an ipykernel dependency

        for worker in workers:
            try:
                kernels += psutil.Process(worker.pid).children(recursive=True)
            except psutil.Error:
                pass
    except ImportError:  # pragma: no cover
        psutil = None
    for kernel in kernels:
        try:
            kernel.terminate()
        except Exception:  # already gone
            pass
    for worker in workers:
        worker.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _worker_died(args: tuple, exc: BaseException) -> dict[str, Any]:
    """Record a cell whose worker process died before it could record anything itself."""
    config_dict, cell_dir = args[0], Path(args[1])
    error = f"the worker process running this cell died: {type(exc).__name__}: {exc}"
    runs.write_json(cell_dir / runs.ERROR_FILE,
                    error_record(STATUS_FAILED, RunConfig.from_dict(config_dict), error, error))
    return {"status": STATUS_FAILED, "error": error}


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise HumalError(
            "executor 'ray' needs Ray, which is not installed: pip install -r requirements.txt "
            "(or use the default --executor local)."
        ) from exc
    return ray


__all__ = ["Grid", "cell_dir_name", "expand_grid", "find_unfillable", "load_grid", "run_grid", "varying_keys"]
