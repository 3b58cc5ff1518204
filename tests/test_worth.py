"""The page "When are people's rationales worth paying for?" (docs/worth-paying-for.md) is what
`worth.markdown` writes from the committed records, and the records it reads agree with their
cells: the shortcut pilot, the shortcut record and the second control record (`rationales`)."""

from __future__ import annotations

import math

import pytest

from humal_nb.cli import records
from humal_nb.config import runs
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import report

RECORDS = REPO_ROOT / "outputs" / "replication"
PAGE = REPO_ROOT / "docs" / "worth-paying-for.md"
NEW_RECORDS = [name for name in ("shortcut_pilot", "shortcut", "rationales") if (RECORDS / name / "summary.csv").is_file()]


@pytest.mark.heavy
def test_the_page_is_written_from_the_committed_records():
    begin, end = records.markers("worth")
    written = PAGE.read_text().split(begin, 1)[1].split(end, 1)[0].strip()
    assert written == records.block_markdown(RECORDS).strip()
    assert "A decision guide" in written and "Holm" in written


@pytest.mark.parametrize("name", NEW_RECORDS)
def test_each_new_record_summary_agrees_with_its_cells(name):
    grid = RECORDS / name
    summary = report.read_summary(grid)
    finished = summary[summary["status"] == "finished"]
    assert len(finished) >= 1
    for _, row in finished.iterrows():
        metrics = runs.read_metrics(grid / row["cell"])
        assert row["auc"] == round(metrics["auc"], 6), row["cell"]
        if "auc_flipped" in summary.columns:
            assert row["auc_flipped"] == round(metrics["auc_flipped"], 6), row["cell"]
            assert metrics["shortcut_rate"] > 0 and metrics["n_train_shortcut"] > 0
        for key in ("rationale_source", "rationale_selection", "attention_loss_mean"):
            if key in summary.columns:
                assert row[key] == metrics[key], (row["cell"], key)
    on_disk = {p.parent.name for p in grid.glob("*/metrics.json")}
    assert on_disk == set(finished["cell"])
    for _, row in summary[summary["status"] == "pending"].iterrows():
        assert not (isinstance(row["auc"], float) and math.isfinite(row["auc"])), row["cell"]
