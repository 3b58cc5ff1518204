"""A run folder on disk: atomic writes and what counts as finished."""

from __future__ import annotations

import os
import stat

from humal_nb.config import runs


def test_atomic_write_gives_the_usual_permissions_and_leaves_no_temporary(tmp_path):
    old = os.umask(0o022)
    try:
        runs.write_json(tmp_path / "metrics.json", {"auc": float("nan"), "n": 3})
    finally:
        os.umask(old)
    path = tmp_path / "metrics.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable by others, as a report should be
    assert runs.read_json(path) == {"auc": None, "n": 3}  # NaN is written as null
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_is_complete_needs_every_required_field(tmp_path):
    assert not runs.is_complete(tmp_path)
    (tmp_path / runs.METRICS_FILE).write_text("{half")
    assert not runs.is_complete(tmp_path)
    fields = {**{key: 0 for key in runs.REQUIRED_METRICS}, "strategy": "al", "model": "m", "history": [],
              "attention": {}}
    runs.write_json(tmp_path / runs.METRICS_FILE, {k: v for k, v in fields.items() if k != "auc"})
    assert not runs.is_complete(tmp_path)
    runs.write_json(tmp_path / runs.METRICS_FILE, {**fields, "auc": "0.9"})  # a number as text: refused
    assert not runs.is_complete(tmp_path)
    runs.write_json(tmp_path / runs.METRICS_FILE, fields)
    assert runs.is_complete(tmp_path)
