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

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from humal_nb.config import runs
from humal_nb.config.grid_file import (  # noqa: F401 - the grid file's names, also used as grid.<name>
    GRID_KEYS,
    NAMED_AXES,
    Grid,
    cell_dir_name,
    expand_grid,
    load_grid,
    varying_keys,
)
from humal_nb.config.package_files import preset_source, resolve_parameter_file
from humal_nb.config.run_config import NON_RESULT_KEYS
from humal_nb.core.errors import HumalError, NotEnoughDataError, ParameterError
from humal_nb.core.names import (
    LOCK_FILE,
    MANIFEST_FILE,
    STATUS_FAILED,
    STATUS_FINISHED,
    STATUS_INTERRUPTED,
    STATUS_NOT_ENOUGH_DATA,
)
from humal_nb.core.paths import display_path, outputs_dir
from humal_nb.experiments.grid_workers import DATA_KEYS, error_record, import_ray, run_cells


# ---------------------------------------------------------------------- the grid
def find_unfillable(grid: Grid, todo: list[int]) -> dict[int, NotEnoughDataError]:
    """The cells (by index) the data cannot fill, found with `make_split` alone (no training).

    A data set that cannot be read at all stops the grid here, before anything runs."""
    from humal_nb.data.selection import load_reviews, split

    pools: dict[tuple, Any] = {}
    unfillable = {}
    for i in todo:
        config = grid.cells[i]
        key = tuple(getattr(config, k) for k in DATA_KEYS)
        if key not in pools:
            pools[key] = load_reviews(config)
        try:
            split(config, pools[key])
        except NotEnoughDataError as exc:
            unfillable[i] = exc
    return unfillable


def check_cells(grid: Grid, todo: list[int], executor: str = "local") -> None:
    """Refuse, before the first cell runs, what `humal-nb run` refuses before it starts: a model
    that cannot be loaded offline (a local folder without weights or tokenizer files, a tokenizer
    that does not cover the model's vocabulary, max_length past its positions), and on this
    machine (`executor` local) a device or precision it lacks. Each model and device is checked
    once; the error names a cell that uses it. (Parameter values are checked as the grid file is
    read, the data by `find_unfillable`.)"""
    from humal_nb.method.models import check_model

    names, seen = grid.cell_names(), set()
    for i in todo:
        config = grid.cells[i]
        for what, value in (("model", (config.model, config.max_length)), ("device", (config.device, config.precision))):
            if (what, value) in seen or (what == "device" and executor != "local"):
                continue
            seen.add((what, value))
            try:
                check_model(*value) if what == "model" else _check_device(*value)
            except HumalError as exc:
                raise type(exc)(f"grid {grid.name}, cell {names[i]} (and every cell with its {what}): {exc} "
                                "No cell has run.") from None


def _check_device(device: str, precision: str) -> None:
    from humal_nb.experiments.train import check_precision
    from humal_nb.method.inference import resolve_device

    resolved = resolve_device(device)
    if precision == "bf16":
        check_precision(precision, resolved)


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
    from humal_nb.core.paths import checkout_root

    info: dict[str, Any] = {"humal_nb": humal_nb.__version__, "commit": None, "dirty": None}
    root = checkout_root()
    if root is None:  # installed: no commit to name
        return info
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                        text=True, timeout=10, check=True).stdout.strip() or None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                 "humal_nb"], cwd=root, capture_output=True, text=True, timeout=10, check=True)
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
        import_ray()
    if not isinstance(path, dict):
        path = resolve_parameter_file(path, kind="grid")  # a file, or a preset's name
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
    check_cells(grid, [i for i, name in enumerate(names) if not runs.is_complete(grid_dir / name)], executor)
    runnable, counts = _plan(grid, grid_dir, path)
    tracker = _Tracker(grid.name, names, counts, len(names) - len(runnable), progress, workers, started)
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
    """Before anything runs (and after `check_cells`): refuse a stale resume, write grid.json, record
    the cells the data cannot fill; returns the cells to run and the counts so far."""
    names = grid.cell_names()
    done_before = {i for i, name in enumerate(names) if runs.is_complete(grid_dir / name)}
    check_finished_cells(grid, grid_dir, sorted(done_before))
    todo = [i for i in range(len(names)) if i not in done_before]
    unfillable = find_unfillable(grid, todo)
    write_manifest(grid, grid_dir, preset_source(path) if not isinstance(path, dict) else "<dict>")
    for i, exc in unfillable.items():
        _reset_cell(grid_dir / names[i])
        runs.write_json(grid_dir / names[i] / runs.ERROR_FILE,
                        error_record(STATUS_NOT_ENOUGH_DATA, grid.cells[i], str(exc)))
    runnable = [i for i in todo if i not in unfillable]
    counts = {"cells": len(names), STATUS_FINISHED: 0, "skipped": len(done_before),
              STATUS_NOT_ENOUGH_DATA: len(unfillable), STATUS_FAILED: 0, STATUS_INTERRUPTED: 0}
    return runnable, counts


#: seconds between two redraws of the grid's progress line while no cell ends (its elapsed time)
REFRESH_SECONDS = 10.0


class _Tracker:
    """The grid's progress bar, its counts by status and each cell's wall time. The bar's line
    (`progress.grid_progress_text`) says the cells done, failed and left, the time elapsed and
    an estimate of the time left; it is redrawn as each cell ends and every REFRESH_SECONDS."""

    def __init__(self, name: str, names: list[str], counts: dict[str, int], initial: int, progress: bool,
                 workers: int = 1, started: float | None = None) -> None:
        from tqdm.auto import tqdm

        self.names, self.counts, self.progress, self.workers = names, counts, progress, workers
        self.started = time.perf_counter() if started is None else started
        self.cell_seconds: dict[str, float] = {}
        self.finished_seconds: list[float] = []  # the estimate of the time left reads these
        self.bar = tqdm(total=len(names), initial=initial, desc=f"grid {name}", unit="cell", disable=not progress,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} cells{postfix}")
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True) if progress else None
        self._show()
        if self._ticker is not None:
            self._ticker.start()

    def _show(self, refresh: bool = True) -> None:
        from humal_nb.core.progress import grid_progress_text

        self.bar.set_postfix_str(grid_progress_text(self.counts, len(self.names), time.perf_counter() - self.started,
                                                    self.finished_seconds, self.workers), refresh=refresh)

    def _tick(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            self._show()

    def on_done(self, i: int, outcome: dict[str, Any]) -> None:
        status = outcome["status"]
        seconds = outcome.get("wall_seconds", outcome.get("seconds", float("nan")))
        self.cell_seconds[self.names[i]] = seconds
        if status == STATUS_FINISHED:
            self.finished_seconds.append(seconds)
        self.counts[status] = self.counts.get(status, 0) + 1
        self._show(refresh=False)
        self.bar.update(1)
        if status == STATUS_FAILED and self.progress:
            self.bar.write(f"cell {self.names[i]} failed: {outcome.get('error', '')}")

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self.bar.close()


def _finish(
    grid: Grid, grid_dir: Path, tracker: _Tracker, interrupted: bool, report: bool, progress: bool, started: float
) -> dict[str, Any]:
    """Write summary.csv (also when interrupted, then re-raise) and the report; the result."""
    from humal_nb.experiments import report as report_module

    counts, names = tracker.counts, tracker.names
    summary_path = report_module.write_summary(grid_dir)
    result = {"name": grid.name, **counts, "seconds": time.perf_counter() - started, "grid_dir": str(grid_dir),
              "summary": str(summary_path), "report": None, "cell_seconds": tracker.cell_seconds}
    if interrupted:
        kept = sum(runs.is_complete(grid_dir / name) for name in names)
        print(f"grid {grid.name}: interrupted; {kept} finished cells of {len(names)} are kept in "
              f"{display_path(grid_dir)}. "
              "Run the same command again to resume.")
        raise KeyboardInterrupt
    if report:
        result["report"] = str(report_module.build_report(grid_dir))
        result["seconds"] = time.perf_counter() - started
    if progress:
        print(
            f"grid {grid.name}: {counts[STATUS_FINISHED]} finished, {counts['skipped']} skipped (done before), "
            f"{counts[STATUS_NOT_ENOUGH_DATA]} not enough data, {counts[STATUS_FAILED]} failed "
            f"in {result['seconds']:.0f} s\nsummary: {display_path(summary_path)}\n"
            f"report: {display_path(result['report']) if result['report'] else None}"
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


__all__ = ["Grid", "cell_dir_name", "check_cells", "expand_grid", "find_unfillable", "load_grid", "run_grid", "varying_keys"]
