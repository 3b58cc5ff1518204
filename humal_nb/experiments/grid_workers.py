"""Grid workers: processes that live for a whole grid and run its cells one after another.

A worker keeps what every cell would otherwise load again (the imports, the parsed data
sets, the base model's weights) and runs a cell with the same function the training
notebook calls, so a cell's files are those `humal-nb run` writes. `run_cells` hands the
cells to a local process pool or to Ray, at most `workers` at a time, and records a cell
whose worker died.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from humal_nb.config import runs
from humal_nb.config.run_config import RunConfig
from humal_nb.core.errors import HumalError, NotebookError, NotEnoughDataError
from humal_nb.core.names import STATUS_FAILED, STATUS_FINISHED, STATUS_INTERRUPTED, STATUS_NOT_ENOUGH_DATA

DATA_KEYS = ("data_dir", "data_file", "agreement", "combine_maps", "label_by", "min_highlight")


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

    from humal_nb.core.quiet import silence_transformers
    from humal_nb.method import models

    torch.set_num_threads(threads)
    models.keep_base_models()
    silence_transformers()
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
    from humal_nb.data.selection import load_reviews

    key = tuple(getattr(config, k) for k in DATA_KEYS)
    if key not in _WORKER["reviews"]:
        _WORKER["reviews"][key] = load_reviews(config)
    return _WORKER["reviews"][key]


def run_cell_in_process(config: RunConfig, cell_dir: str | Path) -> None:
    """Train, evaluate and save one cell in this process: what the training notebook does for
    the cell (`train.train_with_baseline` then `train.save_runs`), on the worker's kept data and model."""
    from humal_nb.experiments import job, train

    config = job.absolute_paths(config).replace(out_dir=str(Path(cell_dir).resolve()))
    result, baseline = train.train_with_baseline(config, reviews=_cell_reviews(config))
    train.save_runs(config, result, baseline)


def _run_cell(config_dict: dict[str, Any], cell_dir: str, threads: int, notebook: bool, html: bool) -> dict[str, Any]:
    """Run one cell (in the worker, or through its notebook); record a failure in error.json."""
    init_worker(threads)
    started = time.perf_counter()
    config = RunConfig.from_dict(config_dict)
    try:
        if notebook:
            from humal_nb.experiments import job

            job.run_notebook(config, cell_dir, progress=False, html=html)
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
        record = error_record(STATUS_FAILED, config, f"{type(exc).__name__}: {exc}{out_of_memory_hint(exc)}", str(exc),
                              traceback.format_exc())
    runs.write_json(Path(cell_dir) / runs.ERROR_FILE, record)
    return {"status": record["status"], "seconds": time.perf_counter() - started, "error": record["error"]}


def out_of_memory_hint(exc: BaseException) -> str:
    """For a cell that ran out of memory (a CPU MemoryError, torch's OutOfMemoryError), what to change."""
    if not isinstance(exc, MemoryError) and "OutOfMemoryError" not in type(exc).__name__:
        return ""
    return (" (out of memory: this cell failed alone; give it a smaller batch_size or a micro_batch_size, or run "
            "the grid with fewer --workers, then run the same command again to rerun the failed cells)")


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


class _LocalPool:
    """`workers` spawned processes that live for the whole grid (`init_worker`)."""

    def __init__(self, workers: int, threads: int) -> None:
        self.workers, self.threads = workers, threads
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")  # no fork of a process holding torch threads
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                   initializer=init_worker, initargs=(self.threads,))

    def submit(self, args: tuple) -> Future:
        return self.pool.submit(_run_cell, *args)

    def restart(self) -> None:
        """A fresh pool after a worker died (a dead worker breaks the whole pool)."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()

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
        self.ray = import_ray()
        self.started_here = not self.ray.is_initialized()
        self.ray.init(ignore_reinit_error=True, log_to_driver=False)
        self.remote = self.ray.remote(num_cpus=threads)(_run_cell)

    def submit(self, args: tuple) -> Any:
        return self.remote.remote(*args)

    def restart(self) -> None:  # Ray replaces a dead worker itself
        pass

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
    with its wall time from submission. A worker that dies (killed, out of memory) takes the
    local pool down with every cell running in it: the pool is restarted, and the cells that were
    running beside others are run again, each alone, so that only the one whose worker dies alone is
    recorded as failed (`_worker_died`) and the grid goes on."""
    args_of = dict(tasks)
    pending = list(reversed(tasks))
    running: dict[Any, tuple[int, float]] = {}
    suspects: set[int] = set()  # cells whose worker died beside others: rerun alone
    try:
        while pending or running:
            while pending and len(running) < workers and not (running and pending[-1][0] in suspects):
                i, args = pending.pop()
                running[pool.submit(args)] = (i, time.perf_counter())
                if i in suspects:
                    break
            lost = []
            for handle in pool.wait_any(list(running)):
                i, submitted = running.pop(handle)
                try:
                    outcome = pool.result(handle)
                except Exception as exc:  # the worker process died (killed, out of memory)
                    lost.append((i, submitted, exc))
                    continue
                on_done(i, {**outcome, "wall_seconds": time.perf_counter() - submitted})
            if lost:
                _after_worker_death(lost, running, pending, suspects, pool, args_of, on_done)
    except BaseException:
        pool.stop(list(running))
        raise


def _after_worker_death(lost: list, running: dict, pending: list, suspects: set[int], pool: Any, args_of: dict,
                        on_done) -> None:
    """Record or requeue the cells of a pool a worker died in, and restart it."""
    if isinstance(lost[0][2], BrokenProcessPool):
        for handle in list(running):  # every cell of a broken pool ends with it
            i, submitted = running.pop(handle)
            lost.append((i, submitted, lost[0][2]))
        pool.restart()
    alone = len(lost) == 1
    for i, submitted, exc in lost:
        if alone or i in suspects:
            on_done(i, {**_worker_died(args_of[i], exc), "wall_seconds": time.perf_counter() - submitted})
        else:
            suspects.add(i)
            pending.append((i, args_of[i]))


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


def import_ray():
    try:
        import ray
    except ImportError as exc:
        raise HumalError(
            "executor 'ray' needs Ray, which is not installed: pip install -r requirements.txt "
            "(or use the default --executor local)."
        ) from exc
    return ray
