"""Nothing humal_nb writes for sharing names an absolute path of the machine that wrote it: the
committed records (rewritten by scripts/portable_records.py without changing one number), the
README and docs, and a fresh run's config.json, metrics.json, executed notebook, report and
model card. A saved model still loads and predicts from another folder."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from humal_nb.config import runs
from humal_nb.experiments import job
from humal_nb.method.models import DEFAULT_MODEL, default_model_path, public_model_name

REPO = Path(__file__).resolve().parents[1]
#: the commit whose records held the machine's out_dir: every number must be the same today
RECORDS_BEFORE = "ca4a912"
#: what names a folder of one machine: Unix system and home folders, a Windows drive
MACHINE_PATH = re.compile(r"/tmp/|/home/|/root/|/work/|\b[A-Za-z]:\\")
TINY = "data_size: 24\nimbalance_ratio: 0.25\nn_test: 20\nepochs: 1\nbatch_size: 8\nmax_length: 64\n"


def _git(*args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["git", "-C", str(REPO), *args], input=stdin, capture_output=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr.decode()[:300]}"
    return done.stdout


def _old_files(paths: list[str]) -> dict[str, bytes]:
    """Each path's content at RECORDS_BEFORE, read in one `git cat-file --batch`."""
    request = "".join(f"{RECORDS_BEFORE}:{p}\n" for p in paths).encode()
    out, files, at = _git("cat-file", "--batch", stdin=request), {}, 0
    for path in paths:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        files[path] = out[header_end + 1:header_end + 1 + size]
        at = header_end + 2 + size
    return files


def _leaves(value: Any, where: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _leaves(item, f"{where}/{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _leaves(item, f"{where}/{i}").items()}
    return {where: value}


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and math.isnan(old):
        return isinstance(new, float) and math.isnan(new)
    return type(old) is type(new) and old == new


def test_the_committed_records_keep_every_number_and_name_no_path():
    paths = [p for p in _git("ls-tree", "-r", "--name-only", RECORDS_BEFORE, "outputs/replication").decode().split()
             if p.endswith("/" + runs.METRICS_FILE)]
    assert len(paths) >= 406
    changed = []
    for path, raw in _old_files(paths).items():
        old, new = _leaves(json.loads(raw)), _leaves(runs.read_json(REPO / path))
        assert set(old) == set(new), f"{path}: fields added or removed"
        for key, value in old.items():
            if key == "/parameters/out_dir":
                assert new[key] == ".", f"{path}: out_dir is {new[key]!r}"
            elif not _same(value, new[key]):
                changed.append(f"{path}{key}: {value!r} -> {new[key]!r}")
    assert not changed, "\n".join(changed[:20])


def test_the_records_rewrite_is_done_and_changes_nothing_when_run_again(tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import portable_records
    finally:
        sys.path.remove(str(REPO / "scripts"))
    assert portable_records.rewrite([REPO / "outputs" / "replication"], check=True) == []
    cell = tmp_path / "grid" / "cell"
    cell.mkdir(parents=True)
    record = {"strategy": "al", "model": "/opt/models/my-bert", "auc": 0.9866999999999999,
              "parameters": {"out_dir": str(cell), "data_dir": "/data/yelp_hat", "seed": 0}}
    runs.write_json(cell / runs.METRICS_FILE, record)
    assert portable_records.rewrite([tmp_path]) == [cell / runs.METRICS_FILE]
    assert (cell / runs.METRICS_FILE).read_text() == json.dumps(
        {"strategy": "al", "model": "my-bert", "auc": 0.9866999999999999,
         "parameters": {"out_dir": ".", "data_dir": "yelp_hat", "seed": 0}}, indent=2) + "\n"
    assert portable_records.rewrite([tmp_path]) == []


def _machine_paths(files: list[Path]) -> list[str]:
    hits = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        hits += [f"{path}: ...{text[max(0, m.start() - 40):m.end() + 40]!r}" for m in MACHINE_PATH.finditer(text)]
    return hits


def test_records_readme_and_docs_name_no_machine_path():
    tracked = _git("ls-files", "outputs", "README.md", "docs").decode().split()
    files = [REPO / p for p in tracked if (REPO / p).is_file() and not p.endswith((".png", ".pdf"))]
    assert any(p.name == runs.METRICS_FILE for p in files) and REPO / "README.md" in files
    hits = _machine_paths(files)
    assert not hits, "\n".join(hits[:20])


def test_the_pattern_finds_machine_paths():
    for text in ('"out_dir": "/tmp/x"', "/home/me/runs", "/root/y", "/work/main/z", "C:\\Users\\me"):
        assert MACHINE_PATH.search(text), text
    for text in ('"out_dir": "."', "outputs/replication/table3", "~/runs/x", "ratio 1:2"):
        assert not MACHINE_PATH.search(text), text


def test_public_model_names():
    assert public_model_name(str(default_model_path())) == DEFAULT_MODEL
    assert public_model_name("minilm") == DEFAULT_MODEL
    assert public_model_name("/opt/models/my-bert/") == "my-bert"
    assert public_model_name("bert-base-uncased") == "bert-base-uncased"


@pytest.mark.slow
@pytest.mark.trains
def test_a_fresh_run_on_a_local_model_names_no_machine_path(tmp_path, yelp_dir):
    """A real run (notebook, report, saved model and card) on a local copy of the default model;
    then the run, moved to another folder, still loads and predicts."""
    local = tmp_path / "models" / "my-minilm"
    shutil.copytree(default_model_path(), local)
    params = tmp_path / "tiny.yaml"
    params.write_text(TINY + f"strategy: al\ncompare_baseline: false\nn_examples: 1\nmodel: {local}\n")
    out = job.run_job(params, out_dir=tmp_path / "out", progress=False)
    shared = [out / "model" / "config.json", out / runs.METRICS_FILE, out / "train_strategy.ipynb",
              out / "report.html", out / "model" / "README.md"]
    hits = _machine_paths(shared) + [f"{p}: names {tmp_path}" for p in shared if str(tmp_path) in p.read_text()]
    assert not hits, "\n".join(hits[:20])
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["base_model_name"] == "my-minilm" and config["base_config"]["_name_or_path"] == "my-minilm"
    notebook = json.loads((out / "train_strategy.ipynb").read_text())
    assert notebook["metadata"]["papermill"]["parameters"]["out_dir"] == "."
    assert notebook["metadata"]["papermill"]["input_path"] == "notebooks/train_strategy.ipynb"
    from humal_nb.experiments.run import Run

    moved = shutil.move(str(out), str(tmp_path / "elsewhere"))
    shutil.rmtree(local)  # the base model's folder is gone: the saved model needs only its own
    predictions = Run.open(moved).predict(["Delicious food and friendly staff!", "Cold and bland."])
    assert predictions.probs.shape == (2,)
