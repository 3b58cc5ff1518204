"""Reports and messages name folders relative to where the command ran, never by the machine's
absolute path (`paths.display_path`); the CLI records that folder for its kernels."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from humal_nb.analyses.compare import COLUMNS, Comparison
from humal_nb.cli import commands as cli
from humal_nb.config.run_config import RunConfig
from humal_nb.core.paths import CWD_VARIABLE, REPO_ROOT, display_path, record_start_folder
from humal_nb.experiments import report
from humal_nb.publication import views

TABLE3 = REPO_ROOT / "outputs" / "replication" / "table3"  # the committed record: read, never written


@pytest.fixture
def places(tmp_path, monkeypatch) -> Path:
    """A start folder ($HUMAL_CWD), an outputs folder and a home folder, all under tmp_path."""
    for name in ("start", "store/outputs", "home", "kernel"):
        (tmp_path / name).mkdir(parents=True)
    monkeypatch.setenv(CWD_VARIABLE, str(tmp_path / "start"))
    monkeypatch.setenv("HUMAL_OUTPUTS", str(tmp_path / "store" / "outputs"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "kernel")  # a kernel runs elsewhere than the command started
    return tmp_path


def test_relative_to_the_folder_the_command_started_in(places):
    assert display_path(places / "start" / "runs" / "al") == "runs/al"
    assert display_path(places / "start") == "."
    assert display_path("../start/runs/al") == "runs/al"  # a relative path is read from the working directory


def test_else_under_the_outputs_folder_then_home_then_two_parts(places, monkeypatch):
    assert display_path(places / "store" / "outputs" / "quickstart") == "outputs/quickstart"
    assert display_path(places / "home" / "runs" / "x") == "~/runs/x"
    assert display_path(places / "home") == "~"
    assert display_path(places / "elsewhere" / "grid" / "cell") == "grid/cell"
    assert display_path("/top") == "top"
    monkeypatch.setenv("HUMAL_OUTPUTS", str(places / "store" / "runs"))
    assert display_path(places / "store" / "runs" / "quickstart") == "runs/quickstart"  # the outputs folder's name


def test_without_a_recorded_start_the_working_directory(places, monkeypatch):
    monkeypatch.delenv(CWD_VARIABLE)
    assert display_path(places / "kernel" / "outputs" / "q") == "outputs/q"


def test_never_an_absolute_path(places):
    for path in (places / "a", places / "start" / "b", places / "store" / "outputs", Path("/"), places.parent):
        shown = display_path(path)
        assert not shown.startswith("/") and str(places) not in shown


def test_the_command_records_where_it_started(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CWD_VARIABLE, "/somewhere/else")
    monkeypatch.chdir(tmp_path)
    record_start_folder()
    assert os.environ[CWD_VARIABLE] == os.getcwd()
    monkeypatch.setenv(CWD_VARIABLE, "/somewhere/else")
    assert cli.main(["data-info", "--data-dir", str(tmp_path / "missing")]) == 2  # records it before anything runs
    assert os.environ[CWD_VARIABLE] == os.getcwd()
    capsys.readouterr()


def test_report_pieces_show_relative_folders(places):
    run = places / "start" / "runs" / "al"
    html = report.saved_html(run) + report.run_header_html(RunConfig(data_dir=str(places / "home" / "yelp")))
    html += report.grid_header_html(places / "store" / "outputs" / "g", pd.DataFrame({"status": ["finished"]}))
    comparison = Comparison(reviews=pd.DataFrame(columns=COLUMNS), baseline_dir=run / "baseline", humal_dir=run)
    html += views.comparison_header_html(comparison)
    assert str(places) not in html
    for shown in ("Saved in runs/al.", "Data: ~/yelp.", "Folder: outputs/g", "<code>runs/al/baseline</code>"):
        assert shown in html
    assert "Not saved" in report.saved_html(None)


def _copy_of_table3(folder: Path) -> Path:
    """grid.json, summary.csv and every cell's metrics.json of the committed table3 record."""
    folder.mkdir()
    for name in ("grid.json", "summary.csv"):
        shutil.copy(TABLE3 / name, folder / name)
    for metrics in TABLE3.glob("*/metrics.json"):
        (folder / metrics.parent.name).mkdir()
        shutil.copy(metrics, folder / metrics.parent.name / metrics.name)
    return folder


@pytest.mark.slow
def test_the_grid_report_holds_no_absolute_path(tmp_path):
    """The grid report of a copy of the committed table3 record. It executes the grid notebook
    (about 20-25 s on a busy 2-core CPU): slow, as every notebook run."""
    if not (TABLE3 / "grid.json").is_file():
        pytest.skip("the committed table3 record is not in this checkout")
    grid = _copy_of_table3(tmp_path / "table3")
    started = time.perf_counter()
    page = report.build_report(grid).read_text()
    print(f"grid report built in {time.perf_counter() - started:.0f} s")
    assert "Grid table3" in page and "Folder: " in page
    assert str(tmp_path) not in page and "/work/" not in page
