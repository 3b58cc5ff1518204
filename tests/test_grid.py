"""humal-nb grid end to end on real Yelp-HAT with the default model: parallel workers, a cell the
data cannot fill, a cell that fails, Ctrl-C, and a resume that redoes nothing finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from humal_nb.config import runs
from humal_nb.core.errors import HumalError, ParameterError
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import grid, job, notebooks

pytestmark = pytest.mark.slow


def _grid_file(tmp_path):
    spec = {
        "name": "tiny",
        "bootstraps": 2,
        "fixed": {"epochs": 1, "n_test": 20, "max_length": 48, "batch_size": 10, "n_examples": 1},
        "vary": [
            {"data_size": [20], "imbalance_ratio": [0.25, 0.5], "strategy": ["baseline", "al"]},
            {"data_size": [2000], "length_group": ["yelp200"], "strategy": ["al"]},  # 177 reviews
        ],
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _interrupt_after_first_cell(path, grid_dir, names) -> int:
    """Run `humal-nb grid` as a user would and press Ctrl-C once a cell has finished."""
    log = open(grid_dir.parent / "interrupted.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "humal_nb", "grid", str(path), "--workers", "2", "--out", str(grid_dir)],
        cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.time() + 600
    try:
        while not any(runs.is_complete(grid_dir / n) for n in names):
            assert proc.poll() is None, (grid_dir.parent / "interrupted.log").read_text()
            assert time.time() < deadline, "no cell finished in 10 minutes"
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        return proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_grid_interrupted_then_resumed(tmp_path, yelp_dir):
    path = _grid_file(tmp_path)
    g = grid.load_grid(path)
    names = g.cell_names()
    assert len(names) == 10
    trainable = [n for n, c in zip(names, g.cells) if c.data_size == 20]
    grid_dir = tmp_path / "tiny"

    assert _interrupt_after_first_cell(path, grid_dir, names) == 130
    done = [n for n in names if runs.is_complete(grid_dir / n)]
    assert 1 <= len(done) < len(trainable)
    mtimes = {n: (grid_dir / n / "metrics.json").stat().st_mtime_ns for n in done}
    summary = pd.read_csv(grid_dir / "summary.csv")  # written on the way out
    assert set(summary[summary.status == "finished"].cell) <= set(done)
    assert not (grid_dir / "report.html").exists()
    unfinished = next(n for n in trainable if n not in done)
    (grid_dir / unfinished).mkdir(exist_ok=True)
    (grid_dir / unfinished / "attention.json").write_text("{half")  # a half-written cell

    result = grid.run_grid(path, workers=2, out_dir=grid_dir, progress=False)
    assert result["skipped"] == len(done)
    assert result["finished"] == len(trainable) - len(done)
    assert result["not_enough_data"] == 2 and result["failed"] == 0  # failing cells: test_grid_faults.py
    assert result["seconds"] > 0 and result["grid_dir"] == str(grid_dir)
    assert {n: (grid_dir / n / "metrics.json").stat().st_mtime_ns for n in done} == mtimes  # none rerun

    for name in trainable:
        assert runs.is_complete(grid_dir / name)
        assert not (grid_dir / name / "train_strategy.ipynb").exists()  # cells run in the worker, no notebook
        assert not (grid_dir / name / "model").exists()  # grids do not save models
        assert not (grid_dir / name / "error.json").exists()
    assert runs.read_json(grid_dir / unfinished / "attention.json")["reviews"]

    summary = pd.read_csv(grid_dir / "summary.csv").set_index("cell")
    assert len(summary) == 10
    for column in ("strategy", "data_size", "imbalance_ratio", "bootstrap", "length_group", "status",
                   "auc", "accuracy", "f1", "cosine_to_human", "high_attention_rate", "train_seconds", "error"):
        assert column in summary.columns, column
    assert (summary.loc[trainable, "status"] == "finished").all() and summary.loc[trainable, "auc"].notna().all()

    ned = summary[summary.status == "not_enough_data"]
    assert len(ned) == 2 and (ned.length_group == "yelp200").all()
    for name in ned.index:
        record = runs.read_json(grid_dir / name / "error.json")
        assert "not enough data" in record["message"] and "needs" in record["message"]
        assert not (grid_dir / name / "train_strategy.ipynb").exists()  # found up front, nothing ran

    html = (grid_dir / "report.html").read_text()
    assert result["report"] == str(grid_dir / "report.html")
    assert notebooks.remote_scripts(html) == []
    assert "not enough data" in html and "Plotly.newPlot" in html


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_a_grid_like_ctrl_c():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with grid.terminate_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the signal arrives before this ends
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_a_grid_started_with_sigint_ignored():
    """A grid launched in the background of a script inherits SIGINT ignored; it still stops."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(KeyboardInterrupt):
            with grid.terminate_as_interrupt():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # restored on the way out
    finally:
        signal.signal(signal.SIGINT, before)


def _fake_finished_cell(cell_dir, config):
    """A finished cell as a notebook leaves it: metrics.json with every required field."""
    metrics = {key: 0 for key in runs.REQUIRED_METRICS}
    metrics.update(strategy=config.strategy, model=config.model, history=[], attention={}, parameters={**config.to_dict(), "out_dir": str(cell_dir)})
    runs.write_json(cell_dir / runs.METRICS_FILE, metrics)


def test_resume_with_changed_parameters_is_refused_and_keeps_results(tmp_path):
    spec = {"name": "changed", "fixed": {"epochs": 3, "n_test": 20}, "vary": {"data_size": [20], "strategy": ["al"]}}
    g = grid.load_grid(spec)
    cell_dir = tmp_path / g.cell_names()[0]
    _fake_finished_cell(cell_dir, g.cells[0].replace(epochs=2))  # run before `epochs` was changed
    before = (cell_dir / runs.METRICS_FILE).read_text()
    with pytest.raises(ParameterError, match=r"(?s)other parameters.*epochs: 2 there, 3 now.*--out") as info:
        grid.run_grid(spec, out_dir=tmp_path, progress=False)
    assert g.cell_names()[0] in str(info.value)
    assert (cell_dir / runs.METRICS_FILE).read_text() == before  # nothing lost
    assert sorted(p.name for p in tmp_path.iterdir()) == [".grid.lock", cell_dir.name]

    _fake_finished_cell(cell_dir, g.cells[0].replace(n_examples=0))  # not a result parameter
    result = grid.run_grid(spec, out_dir=tmp_path, progress=False, report=False)
    assert result["skipped"] == 1 and result["finished"] == 0


def test_a_second_grid_on_the_same_folder_is_refused(tmp_path):
    spec = {"name": "busy", "fixed": {"n_test": 20}, "vary": {"data_size": [20], "strategy": ["al"]}}
    with grid.grid_lock(tmp_path):
        with pytest.raises(HumalError, match=r"another humal-nb grid \(pid \d+\) is running"):
            grid.run_grid(spec, out_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == [tmp_path / ".grid.lock"]  # nothing else touched


def test_ray_executor_gives_the_same_cells_as_the_local_pool(tmp_path, yelp_dir):
    """`--executor ray`: the cells run as Ray tasks (a local Ray instance, shut down after) and
    give exactly the numbers of the default process pool."""
    ray = pytest.importorskip("ray")  # in requirements.txt: skipped only outside the project's environment
    spec = {
        "name": "ray",
        "fixed": {"epochs": 1, "n_test": 20, "max_length": 48, "batch_size": 10, "n_examples": 1,
                  "data_size": 20, "imbalance_ratio": 0.25},
        "vary": {"strategy": ["baseline", "al"]},
    }
    results = {}
    for executor in ("ray", "local"):
        out = tmp_path / executor
        result = grid.run_grid(spec, workers=2, executor=executor, out_dir=out, progress=False, report=False)
        assert result["finished"] == 2 and result["failed"] == 0
        results[executor] = pd.read_csv(out / "summary.csv").set_index("cell")[["auc", "cosine_to_human"]]
    assert not ray.is_initialized()  # the instance the grid started is gone
    pd.testing.assert_frame_equal(results["ray"], results["local"])
    assert results["ray"].notna().all().all()


def _same_results(a: dict, b: dict) -> None:
    """Two metrics.json are the same run: every number equal, timings and paths aside."""
    def strip(m):
        m = {k: v for k, v in m.items() if k not in ("train_seconds", "versions")}
        m["history"] = [{k: v for k, v in h.items() if k != "seconds"} for h in m["history"]]
        m["parameters"] = {k: v for k, v in m["parameters"].items() if k != "out_dir"}
        return m

    assert strip(a) == strip(b)


def test_a_grid_cell_gives_the_numbers_of_humal_nb_run(tmp_path, yelp_dir):
    """A cell run in a grid worker (default), the same cell run through its notebook
    (`cell_notebooks: true`) and `humal-nb run` with the cell's parameters: the same metrics.json
    to the last digit, and the same attention.json."""
    cell = {"epochs": 1, "n_test": 20, "max_length": 64, "batch_size": 8, "data_size": 24,
            "imbalance_ratio": 0.25, "strategy": "al", "group_by_length": True, "save_model": False}
    spec = {"name": "one", **cell, "vary": {"bootstrap": [1]}}
    in_worker = grid.run_grid(spec, out_dir=tmp_path / "worker", progress=False, report=False)
    with_notebook = grid.run_grid({**spec, "cell_notebooks": True}, out_dir=tmp_path / "notebook",
                                  progress=False, report=False)
    assert in_worker["finished"] == with_notebook["finished"] == 1
    name = grid.load_grid(spec).cell_names()[0]
    assert not (tmp_path / "worker" / name / "train_strategy.ipynb").exists()
    assert (tmp_path / "notebook" / name / "train_strategy.ipynb").is_file()

    params = tmp_path / "cell.yaml"
    params.write_text(yaml.safe_dump({**cell, "bootstrap": 1}))
    run_dir = job.run_job(params, out_dir=tmp_path / "run", progress=False)

    runs_ = [tmp_path / "worker" / name, tmp_path / "notebook" / name, run_dir]
    metrics = [runs.read_metrics(r) for r in runs_]
    _same_results(metrics[0], metrics[1])
    _same_results(metrics[0], metrics[2])
    attention = [runs.read_json(r / "attention.json") for r in runs_]
    assert attention[0] == attention[1] == attention[2]
    assert json.loads((tmp_path / "worker" / "grid.json").read_text())["code"]["humal_nb"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_kill_9_of_a_grid_then_the_same_command_reruns_no_finished_cell(tmp_path, yelp_dir):
    """SIGKILL gives the grid no chance to clean up: its workers notice and end (no orphan goes on
    writing), and the same command then skips every finished cell."""
    psutil = pytest.importorskip("psutil")
    spec = {"name": "killed", "epochs": 1, "n_test": 20, "max_length": 48, "batch_size": 10, "data_size": 20,
            "imbalance_ratio": 0.25, "vary": {"strategy": ["baseline", "al"], "bootstrap": [0, 1, 2]}}
    path = tmp_path / "killed.yaml"
    path.write_text(yaml.safe_dump(spec))
    grid_dir = tmp_path / "killed"
    names = grid.load_grid(path).cell_names()
    command = [sys.executable, "-m", "humal_nb", "grid", str(path), "--workers", "2", "--out", str(grid_dir)]
    proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    try:
        while not any(runs.is_complete(grid_dir / n) for n in names):
            assert proc.poll() is None and time.time() < deadline
            time.sleep(0.2)
        workers = psutil.Process(proc.pid).children(recursive=True)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    gone, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive, f"workers outlived the killed grid: {alive}"
    done = [n for n in names if runs.is_complete(grid_dir / n)]
    assert 1 <= len(done) < len(names)
    mtimes = {n: (grid_dir / n / "metrics.json").stat().st_mtime_ns for n in done}

    result = grid.run_grid(path, workers=2, out_dir=grid_dir, progress=False, report=False)
    assert result["skipped"] == len(done) and result["finished"] == len(names) - len(done)
    assert {n: (grid_dir / n / "metrics.json").stat().st_mtime_ns for n in done} == mtimes
