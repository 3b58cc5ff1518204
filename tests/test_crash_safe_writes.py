"""Crash-safe writes: a writer killed with SIGKILL at any point leaves the old file or the new one
on disk, never a torn one. A forked child writes in a loop (annotation saves, a grid's summary,
a figure export); the test kills it at random moments, 20 times per writer, and reads what is there."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from humal_nb.annotation.annotate import AnnotationStore
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import report
from humal_nb.publication import figure_style

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL")

KILLS = 20  # per writer: 60 kill points in all


def _kill_while_writing(write: Callable[[int], None], read: Callable[[], object], allowed: set, seed: int) -> None:
    """Fork a child that calls write(0), write(1), ... without end; SIGKILL it after a random
    moment, KILLS times; after each kill what `read` gives must be one of `allowed`."""
    rng = random.Random(seed)
    for _ in range(KILLS):
        pid = os.fork()
        if pid == 0:  # the child: write until killed
            try:
                n = 0
                while True:
                    write(n)
                    n += 1
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.002, 0.06))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert read() in allowed


def test_annotation_saves_killed_leave_a_whole_file(tmp_path):
    store = AnnotationStore(tmp_path / "annotations.jsonl")
    rows = [{"text_id": f"t{i}", "annotator": "ann", "label": i % 2, "highlights": list(range(i % 7)),
             "text": "word " * (50 + i)} for i in range(40)]
    for row in rows:
        store.save(row)

    def version(n: int) -> dict:
        return {**rows[n % 40], "label": (n // 40) % 2, "text": "é word " * (50 + n % 40)}

    def read() -> int:  # every line whole JSON (a torn file fails here), one row per text
        lines = store.path.read_text(encoding="utf-8").splitlines()
        assert all(json.loads(line)["annotator"] == "ann" for line in lines)
        return len(store.read())

    _kill_while_writing(lambda n: store.save(version(n)), read, {40}, seed=1)


def test_a_summary_write_killed_leaves_the_old_or_the_new(tmp_path):
    grid_dir = Path(shutil.copytree(REPO_ROOT / "outputs" / "replication" / "shortcut_pilot", tmp_path / "grid"))
    new = (grid_dir / "summary.csv").read_text()
    old = new.replace(",finished,", ",failed,")  # a stale summary, as a grid interrupted before may leave
    (grid_dir / "summary.csv").write_text(old)
    _kill_while_writing(lambda n: report.write_summary(grid_dir), lambda: (grid_dir / "summary.csv").read_text(),
                        {old, new}, seed=2)


def test_a_figure_export_killed_leaves_the_old_or_the_new(tmp_path):
    figures = []
    for points in ([0, 1, 0, 2], [3, 1, 4, 1, 5, 9, 2, 6]):
        fig, axes = figure_style.new_figure(3.0, 2.0)
        axes[0][0].plot(points)
        figures.append(fig)
    with figure_style.style():
        versions = {}
        for k, fig in enumerate(figures):
            figure_style.save(fig, tmp_path / f"v{k}", "fig", ["png"])
            versions[k] = (tmp_path / f"v{k}" / "fig.png").read_bytes()
        out = tmp_path / "out"
        figure_style.save(figures[0], out, "fig", ["png"])
        _kill_while_writing(lambda n: figure_style.save(figures[n % 2], out, "fig", ["png"]),
                            lambda: (out / "fig.png").read_bytes(), set(versions.values()), seed=3)
