"""`humal-nb bench --grid`: what a grid cell costs beyond its training.

A small real grid (4 cells of 250 Yelp-HAT reviews, 2 epochs, 128 tokens, the default
model) runs through `humal_nb.experiments.grid.run_grid`; per cell it prints the wall time (from
handing the cell to a worker to its result coming back), the training time recorded in
the cell's metrics.json, and their difference: starting the cell, splitting, encoding,
evaluating the test set and writing the results.
"""

from __future__ import annotations

from typing import Any

from humal_nb.core.errors import ParameterError

GRID_BENCH = {
    "name": "bench_grid",
    "bootstraps": 2,
    "vary": {"strategy": ["baseline", "al"]},
    "data_size": 250,
    "imbalance_ratio": 0.05,
    "epochs": 2,
    "max_length": 128,
}


def run_grid_bench(
    workers: int = 1,
    device: str = "auto",
    out_dir: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A small real grid (4 cells of 250 reviews, 2 epochs, 128 tokens by default) timed per cell:
    the cell's wall time (from handing it to a worker to its result coming back), its training
    time (`train_seconds` in its metrics.json) and their difference, the fixed cost of a cell.
    The last line printed is `grid_overhead_fraction=<median over cells of (wall - train) / wall>`.

    The first cell a worker runs also starts the worker (imports, data, base model): that cost is
    paid once per worker per grid and shows in that cell's row; the median is over all cells.
    """
    import statistics as stats_
    import tempfile as tempfile_
    import time as time_

    from humal_nb.config import runs
    from humal_nb.experiments.grid import load_grid, run_grid

    spec = {**GRID_BENCH, "device": device, **(overrides or {})}
    grid = load_grid(spec)
    with tempfile_.TemporaryDirectory(prefix="humal_bench_grid_") as tmp:
        target = out_dir or tmp
        started = time_.perf_counter()
        result = run_grid(spec, workers=workers, out_dir=target, progress=False, report=False)
        total = time_.perf_counter() - started
        rows = []
        for name in grid.cell_names():
            wall = result["cell_seconds"].get(name)
            try:
                train_s = float(runs.read_metrics(f"{target}/{name}")["train_seconds"])
            except (OSError, ValueError, KeyError):
                train_s = float("nan")
            if wall is not None:
                rows.append((name, wall, train_s))
    print(f"humal-nb bench --grid: {len(grid.cells)} cells ({', '.join(grid.cell_names())}), "
          f"{spec['data_size']} reviews, {spec['epochs']} epochs, {spec['max_length']} tokens, "
          f"{workers} worker(s), device {device}")
    print(f"{'cell':<24}{'wall s':>9}{'train s':>9}{'other s':>9}{'other %':>9}")
    fractions = []
    for name, wall, train_s in rows:
        other = wall - train_s
        fractions.append(other / wall)
        print(f"{name:<24}{wall:>9.1f}{train_s:>9.1f}{other:>9.1f}{100 * other / wall:>8.1f}%")
    print(f"grid wall {total:.1f} s for {len(rows)} cells; finished {result['finished']}, failed {result['failed']}")
    if result["failed"] or len(rows) != len(grid.cells):
        raise ParameterError(f"bench --grid: {result['failed']} cell(s) failed; see the cells' error.json.")
    fraction = stats_.median(fractions)
    print(f"grid_overhead_fraction={fraction:.3f}")
    return {"cells": rows, "grid_seconds": total, "grid_overhead_fraction": fraction}
