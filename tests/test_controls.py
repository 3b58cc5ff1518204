"""The control record's docs block (docs/controls.md) (`humal_nb.analyses.controls`): arms paired by bootstrap with the
replication record's baseline and HuMAL-AL, the rerun check, the budget curve and the answers,
on a control record made from the committed replication record with known AUCs."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from humal_nb.analyses import controls, replication
from humal_nb.cli import records
from humal_nb.config import runs
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import report

MAIN = REPO_ROOT / "outputs" / "replication" / "table3"
CONTROLS = REPO_ROOT / "outputs" / "replication" / "controls"


def _control_record(tmp_path, rerun_auc_shift: float = 0.0):
    """A control grid folder whose arms' AUCs are set from table3's pairs at 250 x 1 %:
    random halfway between baseline and HuMAL-AL, uniform within a hair of HuMAL-AL, 10 % of the
    rationales 30 % of the way, 30 % of them 90 % of the way; and a rerun of baseline b0."""
    main = report.read_summary(MAIN)
    done = main[(main["status"] == "finished") & (main["data_size"] == 250) & (main["imbalance_ratio"] == 0.01)]
    base = done[done["strategy"] == "baseline"].set_index("bootstrap")["auc"]
    al = done[done["strategy"] == "al"].set_index("bootstrap")["auc"]
    rows = []
    rng = np.random.default_rng(0)
    for b in range(10):
        for source, fraction, share in (("random", 1.0, 0.5), ("uniform", 1.0, None), ("human", 0.1, 0.3),
                                        ("human", 0.3, 0.9)):
            auc = al[b] + rng.normal(0, 0.002) if share is None else base[b] + share * (al[b] - base[b])
            name = f"al_n250_r0.01_b{b}_" + (source if source != "human" else f"f{fraction:g}")
            rows.append({"cell": name, "strategy": "al", "data_size": 250, "imbalance_ratio": 0.01, "bootstrap": b,
                         "rationale_source": source, "rationale_fraction": fraction, "status": "finished",
                         "auc": auc, "cosine_to_human": 0.5})
    grid = tmp_path / "controls"
    grid.mkdir()
    cell = grid / "baseline_n250_r0.01_b0"
    cell.mkdir()
    metrics = runs.read_metrics(MAIN / cell.name)
    metrics["auc"] += rerun_auc_shift
    runs.write_json(cell / "metrics.json", metrics)
    rows.insert(0, {"cell": cell.name, "strategy": "baseline", "data_size": 250, "imbalance_ratio": 0.01,
                    "bootstrap": 0, "rationale_source": "human", "rationale_fraction": 1.0, "status": "finished",
                    "auc": metrics["auc"], "cosine_to_human": 0.4})
    pd.DataFrame(rows).to_csv(grid / "summary.csv", index=False)
    runs.write_json(grid / "grid.json", {"name": "replication_controls", "code": {"commit": "0123456789"}})
    return grid


@pytest.mark.heavy
def test_arms_pair_with_the_main_record_and_the_answers_follow_the_numbers(tmp_path):
    grid = _control_record(tmp_path)
    text = controls.markdown(grid, MAIN)
    assert "`baseline_n250_r0.01_b0` identical to the last digit" in text
    table = controls.arms_table(controls.combined_summary(grid, MAIN))
    random_row = table[table["strategy"] == "al+random"].iloc[0]
    assert random_row["vs_human"]["pairs"] == 10 and random_row["vs_human"]["wins"] == 10
    assert random_row["vs_human_verdict"] == "people's rationales beat it"
    uniform = table[table["strategy"] == "al+uniform"].iloc[0]
    assert uniform["vs_human_verdict"].startswith("does as well as people's (within +-0.02 AUC")
    budget = controls.budget_table(controls.combined_summary(grid, MAIN))
    assert list(budget["fraction"]) == [0.0, 0.1, 0.3, 1.0]
    assert np.allclose(budget["share"].iloc[1:], [0.3, 0.9, 1.0])
    assert budget["share_low"].iloc[1] < 0.3 < budget["share_high"].iloc[1]  # a paired bootstrap interval
    assert "the smallest stratified share measured that keeps most of it is 30 %" in text
    # the README command writes the same block; a rerun that differs says so
    readme = tmp_path / "README.md"
    begin, end = records.markers("controls")
    readme.write_text(f"{begin}\n{end}\n")
    from humal_nb.cli.commands import main

    main(["replication", str(grid), "--docs", str(readme), "--block", "controls", "--paired-with", str(MAIN)])
    assert readme.read_text().split(begin, 1)[1].split(end, 1)[0].strip() == text.strip()
    summary = pd.read_csv(grid / "summary.csv")
    summary["status"] = np.where(summary["strategy"] == "baseline", "finished", "pending")
    summary.to_csv(grid / "summary.csv", index=False)  # only the rerun cell has finished
    assert "No control arm has finished yet." in controls.markdown(grid, MAIN)
    shutil.rmtree(grid)
    assert "AUC 0.4349 against 0.4349 in" in controls.markdown(_control_record(tmp_path, rerun_auc_shift=1e-9), MAIN)


@pytest.mark.skipif(not (CONTROLS / "summary.csv").is_file(), reason="the control record has not started")
def test_docs_controls_block_is_written_from_the_committed_files():
    readme = (REPO_ROOT / "docs" / "controls.md").read_text()
    begin, end = records.markers("controls")
    written = readme.split(begin, 1)[1].split(end, 1)[0].strip()
    assert written == records.block_markdown(CONTROLS).strip()
    summary = report.read_summary(CONTROLS)
    for _, row in summary[summary["status"] == "finished"].iterrows():
        metrics = runs.read_metrics(CONTROLS / row["cell"])
        assert row["auc"] == round(metrics["auc"], 6) and row["rationale_source"] == metrics["rationale_source"]
        assert metrics["parameters"]["epochs"] == 10 and metrics["parameters"]["max_length"] == 256


@pytest.mark.heavy
def test_the_replication_command_and_the_old_module_form_print_the_same_block(capsys):
    import subprocess
    import sys

    from humal_nb.cli.commands import main

    assert main(["replication", str(MAIN)]) == 0
    printed = capsys.readouterr().out
    assert printed.strip() == replication.markdown(MAIN).strip()
    old_form = subprocess.run([sys.executable, "-m", "humal_nb.analyses.replication", str(MAIN)], capture_output=True,
                              text=True, timeout=300)
    assert old_form.returncode == 0 and old_form.stdout == printed
    assert main(["replication", str(MAIN), "--readme", str(MAIN / "no_readme.md")]) == 2


def test_one_argparse_module():
    """Every subcommand's parser lives in humal_nb/cli/commands.py."""
    from humal_nb.core.paths import PACKAGE_DIR

    users = sorted(p.relative_to(PACKAGE_DIR).as_posix() for p in PACKAGE_DIR.rglob("*.py")
                   if "import argparse" in p.read_text())
    assert users == ["cli/commands.py"]


def test_the_grid_reports_paper_section_shows_the_arms_of_the_committed_control_record():
    """The grid report's "Against the paper" section on a record whose cells are arms: every arm
    is a Table III row beside the strategies (it once failed comparing differently labelled Series)."""
    section = replication.paper_section(CONTROLS)
    assert section is not None
    rows = [line.split(" | ")[2] for line in section.splitlines() if line.startswith("| 250 | 1% |")]
    assert rows[:2] == ["Baseline", "HuMAL-AL"]
    assert {"HuMAL-AL, random", "HuMAL-AL, uniform", "HuMAL-AL, 10 % rationales",
            "HuMAL-AL, 30 % rationales"} <= set(rows)
    assert any(line.startswith("| 250 | 5% | HuMAL-AL, random |") for line in section.splitlines())
