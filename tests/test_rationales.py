"""Control arms and the annotation budget (`data.rationales`): what each arm does to the
training reviews' human attention, on real Yelp-HAT training subsets (no training)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from humal_nb import data
from humal_nb.config import arms
from humal_nb.config.run_config import RunConfig
from humal_nb.core.errors import NotEnoughDataError, ParameterError
from humal_nb.experiments import train
from humal_nb.measures import stats


@pytest.fixture(scope="module")
def subset(yelp_dir) -> pd.DataFrame:
    config = RunConfig(data_dir=str(yelp_dir), data_size=250, imbalance_ratio=0.05)
    training, _ = train.split(config, train.load_reviews(config))
    return training


def test_human_at_full_budget_is_the_frame_itself(subset):
    assert data.apply_rationales(subset, "human", 1.0, seed=0, bootstrap=0) is subset


def test_random_keeps_each_reviews_count_and_mass_at_other_places(subset):
    out = data.apply_rationales(subset, "random", 1.0, seed=0, bootstrap=0)
    moved = 0
    for before, after in zip(subset["human_attention"], out["human_attention"]):
        before, after = np.asarray(before), np.asarray(after)
        assert len(after) == len(before)
        assert np.isclose(after.sum(), before.sum())
        assert (after > 0).sum() == (before > 0).sum()
        assert sorted(after) == sorted(before)  # the same values, permuted
        moved += not np.array_equal(after, before)
    assert moved > 0.9 * len(subset)
    # the input frame is untouched
    assert subset["human_attention"].iloc[0] == data.apply_rationales(subset, "human")["human_attention"].iloc[0]


def test_random_is_seeded_by_seed_and_bootstrap(subset):
    def maps(seed, bootstrap):
        return [list(v) for v in data.apply_rationales(subset, "random", 1.0, seed, bootstrap)["human_attention"]]

    assert maps(0, 0) == maps(0, 0)
    assert maps(0, 0) != maps(0, 1)
    assert maps(0, 0) != maps(1, 0)


def test_uniform_is_equal_on_every_word(subset):
    out = data.apply_rationales(subset, "uniform", 1.0)
    for words, vector in zip(out["words"], out["human_attention"]):
        assert np.allclose(vector, 1.0 / len(words))


@pytest.mark.parametrize("source", ["human", "random", "uniform"])
def test_fraction_subsets_are_nested_and_stratified(subset, source):
    kept = {}
    for fraction in (0.1, 0.3, 0.6, 1.0):
        out = data.apply_rationales(subset, source, fraction, seed=3, bootstrap=2)
        has = np.array([sum(v) > 0 for v in out["human_attention"]])
        kept[fraction] = set(out["review_id"][has])
        assert data.count_rationales(out) == len(kept[fraction])
        for label, group in subset.groupby("label"):
            in_class = sum(rid in kept[fraction] for rid in group["review_id"])
            assert in_class == int(np.floor(fraction * len(group) + 0.5)), (fraction, label)
    assert kept[0.1] <= kept[0.3] <= kept[0.6] <= kept[1.0]
    assert len(kept[1.0]) == len(subset)
    other = data.apply_rationales(subset, source, 0.3, seed=3, bootstrap=3)
    assert set(other["review_id"][[sum(v) > 0 for v in other["human_attention"]]]) != kept[0.3]


def test_a_budget_that_keeps_nothing_is_refused_with_what_to_do(subset):
    with pytest.raises(NotEnoughDataError, match="keeps no rationale.*use at least"):
        data.apply_rationales(subset, "human", 0.001)


def test_bad_arm_parameters_are_refused():
    with pytest.raises(ParameterError, match="rationale_source"):
        RunConfig(rationale_source="people")
    with pytest.raises(ParameterError, match="rationale_fraction"):
        RunConfig(rationale_fraction=0.0)
    with pytest.raises(ParameterError, match="weight_decay"):
        RunConfig(weight_decay=-0.1)


def test_cell_names_and_table_rows_carry_the_arm():
    assert RunConfig(strategy="al", rationale_source="random").cell_name() == "al_n250_r0.05_b0_random"
    assert RunConfig(strategy="al", rationale_fraction=0.1).cell_name() == "al_n250_r0.05_b0_f0.1"
    assert arms.label(arms.arm_key("al", "random", 1.0)) == "HuMAL-AL, random"
    assert arms.label(arms.arm_key("al", "human", 0.3)) == "HuMAL-AL, 30 % rationales"
    assert arms.arm_key("al", "human", 1.0) == "al"
    summary = pd.DataFrame({
        "strategy": ["baseline", "al", "al"] * 3,
        "rationale_source": ["human", "human", "random"] * 3,
        "rationale_fraction": [1.0] * 9,
        "data_size": [250] * 9,
        "imbalance_ratio": [0.01] * 9,
        "bootstrap": [0, 0, 0, 1, 1, 1, 2, 2, 2],
        "status": ["finished"] * 9,
        "auc": [0.5, 0.9, 0.8, 0.6, 0.95, 0.7, 0.55, 0.92, 0.75],
    })
    table = stats.auc_table(summary)
    assert list(table.table.index.get_level_values("strategy")) == ["Baseline", "HuMAL-AL", "HuMAL-AL, random"]
    random_row = table.long[table.long["strategy"] == "al+random"].iloc[0]
    assert random_row["n_pairs"] == 3 and random_row["p_value"] < 0.05


@pytest.mark.slow
def test_a_grid_of_arms_records_each_arm_in_metrics_and_summary(tmp_path, yelp_dir):
    from humal_nb.config import runs
    from humal_nb.experiments import grid, report

    spec = {
        "name": "arms",
        "fixed": {"data_dir": str(yelp_dir), "epochs": 1, "n_test": 20, "max_length": 48, "batch_size": 10,
                  "data_size": 20, "imbalance_ratio": 0.5, "strategy": "al"},
        "vary": [{"rationale_source": ["human", "random", "uniform"]}, {"rationale_fraction": [0.5]}],
    }
    result = grid.run_grid(spec, workers=1, out_dir=tmp_path, progress=False, report=False)
    summary = report.read_summary(tmp_path)
    assert set(summary["status"]) == {"finished"}, result
    assert list(summary["rationale_source"]) == ["human", "random", "uniform", "human"]
    assert list(summary["rationale_fraction"]) == [1.0, 1.0, 1.0, 0.5]
    for _, row in summary.iterrows():
        metrics = runs.read_metrics(tmp_path / row["cell"])
        assert metrics["rationale_source"] == row["rationale_source"]
        assert metrics["parameters"]["rationale_fraction"] == row["rationale_fraction"]
        assert metrics["n_train_rationales"] == (10 if row["rationale_fraction"] == 0.5 else 20)
        assert metrics["auc"] == pytest.approx(row["auc"], abs=1e-6)
    human, random_, uniform = (runs.read_metrics(tmp_path / c) for c in summary["cell"][:3])
    assert human["history"][0]["attention_loss"] != random_["history"][0]["attention_loss"]
    assert random_["history"][0]["attention_loss"] != uniform["history"][0]["attention_loss"]
    labels = list(stats.auc_table(summary).table.index.get_level_values("strategy"))
    assert labels == ["HuMAL-AL", "HuMAL-AL, 50 % rationales", "HuMAL-AL, random", "HuMAL-AL, uniform"]
    budget = stats.budget_curve(summary)
    assert list(zip(budget["strategy"], budget["fraction"])) == [("al", 0.5), ("al", 1.0)]  # no baseline in this grid
    html = report.build_report(tmp_path).read_text()  # the grid report: arms as rows, the budget figure
    assert "HuMAL-AL, random" in html and "HuMAL-AL, 50 % rationales" in html
    assert "AUC against the share of reviews with a rationale" in html
