"""Grid faults: a cell that runs out of memory (a CPU MemoryError, torch's CUDA OutOfMemoryError)
or whose worker process is killed fails alone, with an error.json that says what happened; the
grid goes on, its summary counts the failures, and the same command then reruns only them.

The faults are planted in the grid's worker processes (spawned, so not reachable by monkeypatch)
through a `sitecustomize` module on their PYTHONPATH: it replaces the cell's training with one
that raises or kills its worker when a marker file names the cell, and otherwise writes a finished
cell's metrics.json (the grid's machinery is under test here, not training)."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from humal_nb.config import runs
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import grid

pytestmark = pytest.mark.slow  # worker processes start torch: tens of seconds

TEMPLATE = REPO_ROOT / "outputs" / "replication" / "shortcut_pilot" / "baseline_n250_r0.5_b0_s1" / "metrics.json"

SITECUSTOMIZE = """
import os
import signal
from pathlib import Path


def _install():
    from humal_nb.experiments import grid_workers
    from humal_nb.config import runs

    faults = Path(os.environ["HUMAL_TEST_FAULTS"])

    def run_cell(config, cell_dir):
        name = Path(cell_dir).name
        if (faults / f"{name}.memory").exists():
            raise MemoryError("cannot allocate 3.2 GiB")
        if (faults / f"{name}.cuda").exists():
            import torch

            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if (faults / f"{name}.kill").exists():
            os.kill(os.getpid(), signal.SIGKILL)
        metrics = runs.read_json(os.environ["HUMAL_TEST_TEMPLATE"])
        metrics.update(strategy=config.strategy, data_size=config.data_size, bootstrap=config.bootstrap,
                       imbalance_ratio=config.imbalance_ratio, parameters=config.to_dict())
        runs.write_json(Path(cell_dir) / runs.METRICS_FILE, metrics)

    grid_workers.run_cell_in_process = run_cell


_install()
"""


def test_out_of_memory_and_a_killed_worker_fail_alone_and_are_rerun(tmp_path, monkeypatch, yelp_dir):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE))
    faults = tmp_path / "faults"
    faults.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("HUMAL_TEST_FAULTS", str(faults))
    monkeypatch.setenv("HUMAL_TEST_TEMPLATE", str(TEMPLATE))
    spec = {"name": "faults", "bootstraps": 2, "fixed": {"n_test": 20, "epochs": 1},
            "vary": {"data_size": [20], "imbalance_ratio": [0.5], "strategy": ["baseline", "al"]}}
    names = grid.load_grid(spec).cell_names()
    planted = {names[0]: "memory", names[1]: "cuda", names[2]: "kill"}
    for name, kind in planted.items():
        (faults / f"{name}.{kind}").touch()
    grid_dir = tmp_path / "grid"

    result = grid.run_grid(spec, workers=2, out_dir=grid_dir, progress=False, report=False)
    assert result["failed"] == 3 and result["finished"] == 1
    summary = pd.read_csv(grid_dir / "summary.csv").set_index("cell")
    assert summary.loc[names[3], "status"] == "finished"
    assert (summary.loc[list(planted), "status"] == "failed").all()
    records = {name: runs.read_json(grid_dir / name / "error.json") for name in planted}
    assert "MemoryError: cannot allocate" in records[names[0]]["error"]
    assert "OutOfMemoryError: CUDA out of memory" in records[names[1]]["error"]
    for name in names[:2]:
        assert "out of memory: this cell failed alone" in records[name]["error"]
        assert "batch_size" in records[name]["error"]
    assert "worker process running this cell died" in records[names[2]]["error"]
    finished_at = (grid_dir / names[3] / "metrics.json").stat().st_mtime_ns

    for marker in faults.iterdir():
        marker.unlink()
    again = grid.run_grid(spec, workers=2, out_dir=grid_dir, progress=False, report=False)
    assert again["skipped"] == 1 and again["finished"] == 3 and again["failed"] == 0
    assert (grid_dir / names[3] / "metrics.json").stat().st_mtime_ns == finished_at  # not rerun
    assert all(runs.is_complete(grid_dir / name) and not (grid_dir / name / "error.json").exists() for name in names)
    assert (pd.read_csv(grid_dir / "summary.csv")["status"] == "finished").all()
