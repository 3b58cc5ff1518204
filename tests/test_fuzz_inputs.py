"""Property-based tests: each reader and each command's file arguments fed damaged versions of real
files (cut short, emptied, lines dropped or repeated, a span replaced by other text, wrongly typed
or unicode-laden values), made from the committed records and a hand-written run pair.

The only outcomes allowed: the correct result (the same tables as from the undamaged record), or
humal_nb's own error with a message (`humal-nb` exits 2 with it, no traceback). Never an exception
of another kind, never exit 0 with a different result.

Profiles (`HUMAL_FUZZ_PROFILE`): `default`, a few examples per test (seconds); `fuzz`, many
(`make fuzz`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from humal_nb.cli import commands as cli
from humal_nb.config import grid_file, readers
from humal_nb.config import run_config as config
from humal_nb.core.errors import HumalError
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import report
from humal_nb.experiments.run import Run

_COMMON = {"deadline": None, "derandomize": False, "suppress_health_check": list(HealthCheck)}
settings.register_profile("default", max_examples=12, **_COMMON)
settings.register_profile("fuzz", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("HUMAL_FUZZ_PROFILE", "default"))

RECORD = REPO_ROOT / "outputs" / "replication" / "shortcut_pilot"
CELL = "baseline_n250_r0.05_b0_s0.5"
NOISE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", "nan", "-1", "1e309", "true", "null", "\ufeff", "é", "漢字", "0.5.5", ",", '"', "\n", "[]", "{}", "NaN"])


@st.composite
def damaged(draw, text: str) -> str:
    """`text` cut short, emptied, with a line dropped or repeated, or a span replaced by noise."""
    kind = draw(st.sampled_from(["cut", "empty", "drop", "repeat", "replace", "replace", "replace"]))
    lines = text.splitlines(keepends=True)
    if kind == "cut":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if kind == "empty":
        return draw(st.sampled_from(["", "\n", " ", "\ufeff"]))
    if kind in ("drop", "repeat"):
        i = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:i] + ([lines[i]] * 2 if kind == "repeat" else []) + lines[i + 1:])
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start, min(len(text), start + 8)))
    return text[:start] + draw(NOISE) + text[end:]


def _tables(folder: Path, out: Path, capsys) -> tuple[int, str]:
    code = cli.main(["tables", str(folder), "--format", "csv,markdown", "--out", str(out)])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    if code == 2:
        assert "Traceback" not in err and "error: " in err and err.strip(), err
    return code, err


def _written(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.iterdir())} if out.is_dir() else {}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("pristine")
    assert cli.main(["tables", str(RECORD), "--format", "csv,markdown", "--out", str(out)]) == 0
    return _written(out)


def _record_with(name: str, text: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="humal-fuzz-")) / "record"
    shutil.copytree(RECORD, folder)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.heavy
@given(data=st.data())
def test_tables_from_a_damaged_summary(data, pristine, capsys):
    folder = _record_with("summary.csv", data.draw(damaged((RECORD / "summary.csv").read_text())))
    try:
        code, _ = _tables(folder, folder / "out", capsys)
        if code == 0:
            assert _written(folder / "out") == pristine  # rebuilt from the cells, or as good as the original
    finally:
        shutil.rmtree(folder.parent)


@given(data=st.data())
def test_tables_from_a_damaged_grid_json(data, pristine, capsys):
    folder = _record_with("grid.json", data.draw(damaged((RECORD / "grid.json").read_text())))
    try:
        code, _ = _tables(folder, folder / "out", capsys)
        if code == 0:
            assert _written(folder / "out") == pristine
    finally:
        shutil.rmtree(folder.parent)


@pytest.mark.heavy
@given(data=st.data())
def test_tables_from_a_damaged_cell_metrics(data, capsys):
    name = f"{CELL}/metrics.json"
    folder = _record_with(name, data.draw(damaged((RECORD / name).read_text())))
    try:
        code, _ = _tables(folder, folder / "out", capsys)
        if code == 0:  # the cell still reads as a finished run: the tables are those of its numbers
            report.write_summary(folder)
            assert cli.main(["tables", str(folder), "--format", "csv,markdown", "--out", str(folder / "again")]) == 0
            assert _written(folder / "out") == _written(folder / "again")
    finally:
        shutil.rmtree(folder.parent)


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Path:
    from fake_runs import write_pair

    return write_pair(tmp_path_factory.mktemp("pair"))


@given(data=st.data())
def test_a_damaged_attention_json(data, pair, capsys):
    folder = Path(tempfile.mkdtemp(prefix="humal-fuzz-")) / "run"
    shutil.copytree(pair, folder)
    (folder / "attention.json").write_text(data.draw(damaged((pair / "attention.json").read_text())))
    try:
        try:
            reviews = Run.open(folder).review_attention
        except HumalError as exc:
            assert str(exc)
        else:
            assert reviews and all(len(r["words"]) == len(r["human"]) == len(r["machine"]) for r in reviews)
        code = cli.main(["export", str(folder), "--out", str(folder / "words.csv")])
        err = capsys.readouterr().err
        assert code in (0, 2) and "Traceback" not in err
        assert (code == 0) == (folder / "words.csv").is_file()
    finally:
        shutil.rmtree(folder.parent)


@pytest.mark.heavy
@given(data=st.data())
def test_a_damaged_parameter_or_grid_file(data):
    for preset, load in (("quickstart.yaml", config.load_run_config), ("table3_yelp.yaml", grid_file.load_grid)):
        source = REPO_ROOT / "parameters" / preset
        path = Path(tempfile.mkdtemp(prefix="humal-fuzz-")) / preset
        path.write_text(data.draw(damaged(source.read_text())), encoding="utf-8")
        try:
            load(path)
        except HumalError as exc:
            assert str(exc)
        finally:
            shutil.rmtree(path.parent)


@given(text=damaged((RECORD / f"{CELL}/metrics.json").read_text()))
def test_the_metrics_reader_names_what_is_wrong(text):
    folder = Path(tempfile.mkdtemp(prefix="humal-fuzz-"))
    (folder / "metrics.json").write_text(text, encoding="utf-8")
    try:
        metrics = readers.read_metrics(folder)
    except HumalError as exc:
        assert "metrics.json" in str(exc)
    else:
        assert readers.metrics_problem(metrics) is None
    finally:
        shutil.rmtree(folder)
