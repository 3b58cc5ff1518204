"""The committed replication records (the CPU one, table3, and the GPU one, gpu): summary.csv
agrees with the cells' metrics.json, every cell listed as finished has its metrics, and each
docs/replication.md block is what `humal_nb.analyses.replication.markdown` writes from those files."""

import math
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from humal_nb.analyses import replication
from humal_nb.cli import records
from humal_nb.config import runs
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import report

GRID = REPO_ROOT / "outputs" / "replication" / "table3"
GPU_GRID = REPO_ROOT / "outputs" / "replication" / "gpu"
pytestmark = pytest.mark.skipif(not (GRID / "summary.csv").is_file(), reason="no replication record in this checkout")
#: each committed record and the docs/replication.md block written from it
RECORDS = pytest.mark.parametrize("grid, block", [(GRID, ""), (GPU_GRID, "gpu")], ids=["table3", "gpu"])


@RECORDS
def test_summary_matches_each_cells_metrics(grid, block):
    summary = report.read_summary(grid)
    finished = summary[summary["status"] == "finished"]
    assert len(finished) >= 2
    for _, row in finished.iterrows():
        metrics = runs.read_metrics(grid / row["cell"])
        assert row["auc"] == round(metrics["auc"], 6), row["cell"]
        assert metrics["parameters"]["epochs"] == 10 and metrics["parameters"]["max_length"] == 256
    on_disk = {p.parent.name for p in grid.glob("*/metrics.json")}
    assert on_disk == set(finished["cell"])  # no finished cell missing from summary.csv, none extra


@RECORDS
def test_summary_lists_finished_or_unstarted_cells_only(grid, block):
    """The record is committed between cells: a cell is finished (its files committed) or not
    started, as a checkout of the record reads it; nothing half-run is listed."""
    summary = report.read_summary(grid)
    assert set(summary["status"]) <= {"finished", "pending", "failed", "not_enough_data"}
    for _, row in summary[summary["status"] == "pending"].iterrows():
        assert not pd.notna(row["auc"]), row["cell"]


@RECORDS
def test_readme_block_is_written_from_the_files(grid, block):
    readme = (REPO_ROOT / "docs" / "replication.md").read_text()
    begin, end = records.markers(block)
    written = readme.split(begin, 1)[1].split(end, 1)[0].strip()
    assert written == replication.markdown(grid).strip()


@pytest.mark.heavy
def test_another_records_block_leaves_the_main_blocks_alone(tmp_path):
    """`--block gpu` rewrites that block only; a README without it gets an error naming the lines to add."""
    empty = tmp_path / "grid"
    shutil.copytree(GRID, empty, ignore=shutil.ignore_patterns("attention.json", "model", "*.ipynb", "*.html"))
    readme = tmp_path / "README.md"
    main = f"{replication.BEGIN}\nmain table\n{replication.END}"
    readme.write_text(main + "\n")
    gpu_begin, gpu_end = records.markers("gpu")
    with pytest.raises(ValueError, match="add the lines"):
        records.update_readme(readme, empty, block="gpu")
    readme.write_text(f"{main}\n\n{gpu_begin}\n{gpu_end}\n")
    records.update_readme(readme, empty, block="gpu")
    text = readme.read_text()
    assert main in text and "Table III, here and in the paper" in text.split(gpu_begin, 1)[1]
    with pytest.raises(ValueError, match="block name"):
        records.markers("GPU record")


def test_table3_pairs_bootstraps_and_counts_wins(tmp_path):
    """On a copy of the record with one AUC changed, the wins and the mean follow."""
    copy = tmp_path / "grid"
    shutil.copytree(GRID, copy, ignore=shutil.ignore_patterns("*.json", "model"))
    shutil.copy(GRID / "grid.json", copy / "grid.json")
    summary = pd.read_csv(copy / "summary.csv")
    done = summary[summary["status"] == "finished"]
    pair = done[(done["data_size"] == 250) & (done["imbalance_ratio"] == 0.01) & (done["bootstrap"] == 0)]
    assert set(pair["strategy"]) >= {"baseline", "al"}
    base = pair[pair["strategy"] == "baseline"].index[0]
    summary.loc[base, "auc"] = 0.0  # AL now beats the baseline at bootstrap 0 whatever it scored
    summary.to_csv(copy / "summary.csv", index=False)
    table = replication.table3(copy)
    al = table[(table["data_size"] == 250) & (table["imbalance_ratio"] == 0.01) & (table["strategy"] == "al")].iloc[0]
    assert al["pairs"] >= 1 and al["wins"] >= 1
    baseline = table[(table["data_size"] == 250) & (table["imbalance_ratio"] == 0.01)
                     & (table["strategy"] == "baseline")].iloc[0]
    expected = summary[(summary["strategy"] == "baseline") & (summary["data_size"] == 250)
                       & (summary["imbalance_ratio"] == 0.01) & (summary["status"] == "finished")]["auc"].mean()
    assert math.isclose(baseline["mean_auc"], expected)
    assert al["paper"] == "0.84* (0.08)"


def test_position_curves_need_attention_files(tmp_path):
    """Without any cell's attention.json the position block is left as it was."""
    empty = tmp_path / "grid"  # the committed files only, as in a clean checkout
    shutil.copytree(GRID, empty, ignore=shutil.ignore_patterns("attention.json", "model", "*.ipynb", "*.html"))
    assert replication.position_curves(empty) is None and replication.position_markdown(empty) is None
    readme = tmp_path / "README.md"
    kept = f"{replication.POSITIONS_BEGIN}\nold table\n{replication.POSITIONS_END}"
    readme.write_text(f"{replication.BEGIN}\n{replication.END}\n\n{kept}\n")
    records.update_readme(readme, empty)
    text = readme.read_text()
    assert kept in text and "Table III, here and in the paper" in text


@pytest.mark.slow
def test_grid_report_from_the_committed_files_judges_the_claims(tmp_path):
    """`humal-nb report` on the committed files alone (no attention.json): Table III, Fig. 3,
    the attention table and the paper's claims, with no error in the executed notebook."""
    committed = tmp_path / "table3"
    shutil.copytree(GRID, committed, ignore=shutil.ignore_patterns("attention.json", "model", "*.ipynb", "*.html"))
    text = report.build_report(committed).read_text()
    assert "Against the paper" in text and "HuMAL-AL beats the baseline where the minority class is rare" in text
    assert "0.84* (0.08)" in text and "Plotly.newPlot" in text
    assert "Fig. 6, mean attention" not in text  # needs the cells' attention.json
    executed = nbformat.read(committed / "grid_report.ipynb", as_version=4)
    assert not any(o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", []))


def test_update_readme_refuses_a_readme_without_markers(tmp_path):
    readme = Path(tmp_path / "README.md")
    readme.write_text("# nothing here\n")
    with pytest.raises(ValueError, match="no replication block"):
        records.update_readme(readme, GRID)
