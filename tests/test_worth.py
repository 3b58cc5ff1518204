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


def _comparison(gain: float, holm_p: float, wins: int = 8, pairs: int = 10) -> dict:
    return {"pairs": pairs, "wins": wins, "gain": gain, "holm_p": holm_p}


def test_the_decision_guide_leads_with_what_the_verdicts_show():
    """Each line of the guide opens with what its verdicts say: people's worth paying for only
    where they beat every cheaper source measured; a shortcut line names only the arms that
    were shown to cut reliance."""
    import pandas as pd

    from humal_nb.analyses import worth

    def arm(key, verdict, baseline_verdict="no gain over the baseline"):
        return {"data_size": 250, "imbalance_ratio": 0.01, "strategy": key, "vs_human": _comparison(0.2, 0.01),
                "vs_human_verdict": verdict, "vs_baseline_verdict": baseline_verdict}

    beaten = "people's rationales beat it"
    every = pd.DataFrame([arm("al+random", beaten), arm("al+lexicon", beaten)])
    assert "people's rationales are worth paying for" in worth._guide_rare(every)[0]
    assert "None of the cheaper sources was shown to beat the baseline" in worth._guide_rare(every)[0]
    some = pd.DataFrame([arm("al+random", beaten), arm("al+lexicon", "inconclusive at n = 10", "beats the baseline")])
    line = worth._guide_rare(some)[0]
    assert "beat some cheaper sources" in line and "not shown against a lexicon's free ones" in line
    assert "a lexicon's free rationales beat the baseline" in line
    assert worth._guide_rare(pd.DataFrame([arm("al+random", "inconclusive")]))[0].startswith(
        "**A rare minority class (1 %): no cheaper source")

    shortcut = pd.DataFrame([
        {"data_size": 250, "imbalance_ratio": 0.5, "strategy": "baseline"},
        {"data_size": 250, "imbalance_ratio": 0.5, "strategy": "al", "vs_baseline": _comparison(0.15, 0.01),
         "verdict": "relies less than the baseline"},
        {"data_size": 250, "imbalance_ratio": 0.5, "strategy": "al+lexicon", "vs_baseline": _comparison(-0.3, 1.0, 1),
         "verdict": "inconclusive at n = 10"},
    ])
    line = worth._guide_shortcut(shortcut)[0]
    assert line.startswith("**A suspected shortcut (250 x 50%): people's rationales cut the baseline's reliance")
    assert "people's rationales cut it by 0.150 AUC" in line and "lexicon rationales raised it by 0.300 AUC" in line
    shortcut.loc[1, "verdict"] = "inconclusive at n = 10"
    assert "no arm was shown to cut" in worth._guide_shortcut(shortcut)[0]


def test_each_budget_rule_is_set_against_stratified_at_its_share():
    """minority_first and the batch mean at 10 % are each compared with the stratified 10 % arm
    on matched bootstraps, Holm over those two alone; the stratified arms carry no comparison."""
    from humal_nb.analyses import controls
    from humal_nb.measures import stats

    summary = controls.combined_summary(RECORDS / "controls", RECORDS / "table3", RECORDS / "rationales")
    budget = controls.budget_table(summary).set_index("strategy")
    ruled = budget["vs_plain"].dropna()
    assert set(ruled.index) == {"al+f0.1+minority_first", "al+f0.1+batch"}
    assert all(isinstance(v, float) for v in budget.loc[["al+f0.1", "al+f0.3"], "vs_plain"])  # NaN: none
    raw = [ruled[k]["p_value"] for k in ruled.index]
    assert [ruled[k]["holm_p"] for k in ruled.index] == pytest.approx(list(stats.holm(raw)))
    first = controls.compare_arms(summary, 250, 0.01, "al+f0.1+minority_first", "al+f0.1")
    assert ruled["al+f0.1+minority_first"]["gain"] == first["gain"] and first["pairs"] == 10
    assert "against stratified" in controls.budget_markdown(budget.reset_index())
