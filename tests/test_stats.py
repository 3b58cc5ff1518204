"""humal_nb.measures.stats: paired test, Table III formatting, lowess, data requirement (hand-made numbers)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from humal_nb.measures.stats import (
    auc_table,
    data_requirement,
    format_cell,
    format_ratio,
    lowess_curve,
    paired_test,
    size_to_reach,
    smoothed_auc,
)


def _rows(strategy, size, ratio, aucs, status="finished", length_group=""):
    return [
        {"strategy": strategy, "data_size": size, "imbalance_ratio": ratio, "bootstrap": b,
         "length_group": length_group, "status": status, "auc": auc}
        for b, auc in enumerate(aucs)
    ]


# ---------------------------------------------------------------------- paired test
def test_paired_test_matches_the_hand_computed_t_statistic():
    base = [0.80, 0.82, 0.78, 0.85]
    strat = [0.90, 0.88, 0.86, 0.91]
    diff = np.subtract(strat, base)  # 0.10, 0.06, 0.08, 0.06
    t_hand = diff.mean() / (diff.std(ddof=1) / math.sqrt(len(diff)))
    t, p = paired_test(base, strat)
    assert t == pytest.approx(t_hand)
    assert 0 < p < 0.01  # one-sided: the strategy is clearly better


def test_paired_test_is_one_sided():
    t, p = paired_test([0.9, 0.88, 0.91], [0.8, 0.79, 0.83])  # strategy worse
    assert t < 0 and p > 0.95


def test_paired_test_needs_two_pairs_and_drops_missing():
    assert all(math.isnan(v) for v in paired_test([0.8], [0.9]))
    assert all(math.isnan(v) for v in paired_test([], []))
    assert all(math.isnan(v) for v in paired_test([0.8, float("nan")], [0.9, 0.95]))
    t, p = paired_test([0.8, 0.7, float("nan"), 0.75], [0.9, 0.85, 0.99, 0.8])
    assert math.isfinite(p)


def test_paired_test_constant_difference_has_no_p_value():
    assert math.isnan(paired_test([0.8, 0.7], [0.9, 0.8])[1])


def test_paired_test_refuses_unmatched_lengths():
    with pytest.raises(ValueError):
        paired_test([0.8, 0.7], [0.9])


# ---------------------------------------------------------------------- formatting
def test_format_cell_and_ratio():
    assert format_cell(0.9312, 0.0249) == "0.93 (0.02)"
    assert format_cell(0.9612, 0.0151, p=0.0034) == "0.96* (0.02) p=0.003"
    assert format_cell(0.96, 0.015, p=0.0001) == "0.96* (0.01) p=<0.001"
    assert format_cell(0.93, 0.02, p=0.2) == "0.93 (0.02) p=0.200"  # every paired test's p, starred or not
    assert format_cell(0.93, float("nan")) == "0.93 (-)"
    assert format_cell(float("nan"), 0.1) == ""
    assert [format_ratio(r) for r in (0.01, 0.05, 0.1, 0.5, 0.005)] == ["1%", "5%", "10%", "50%", "0.5%"]


def _summary():
    rows = []
    rows += _rows("baseline", 250, 0.01, [0.60, 0.65, 0.70, 0.62])
    rows += _rows("al", 250, 0.01, [0.80, 0.84, 0.86, 0.83])  # clearly better: starred
    rows += _rows("an", 250, 0.01, [0.61, 0.64, 0.71, 0.63])  # not significantly better
    rows += _rows("baseline", 250, 0.5, [0.97, 0.98, 0.98, 0.99])
    rows += _rows("al", 250, 0.5, [0.98, 0.98, 0.97, 0.99])
    rows += _rows("an", 250, 0.5, [0.97, 0.97, 0.98, 0.99])
    for strategy in ("baseline", "al", "an"):  # a size the data cannot fill at 1 %
        rows += _rows(strategy, 2000, 0.01, [None] * 4, status="not_enough_data")
        rows += _rows(strategy, 2000, 0.5, [0.98, 0.99, 0.99, 0.98])
    return pd.DataFrame(rows)


def test_auc_table_cells_stars_and_not_enough_data():
    result = auc_table(_summary())
    table = result.table
    assert list(table.columns) == ["1%", "50%"]
    assert list(table.index.names) == ["data size", "strategy"]
    assert [s for _, s in table.index][:3] == ["Baseline", "HuMAL-AL", "HuMAL-AN"]
    base = table.loc[(250, "Baseline"), "1%"]
    assert base == "0.64 (0.04)"
    al = table.loc[(250, "HuMAL-AL"), "1%"]
    assert al.startswith("0.83* (0.02) p=")
    assert "*" not in table.loc[(250, "HuMAL-AN"), "1%"]
    assert "*" not in table.loc[(250, "HuMAL-AL"), "50%"]
    for strategy in ("Baseline", "HuMAL-AL", "HuMAL-AN"):
        assert table.loc[(2000, strategy), "1%"] == "not enough data"

    long = result.long
    al_row = long[(long.strategy == "al") & (long.data_size == 250) & (long.imbalance_ratio == 0.01)].iloc[0]
    expected_t, expected_p = paired_test([0.60, 0.65, 0.70, 0.62], [0.80, 0.84, 0.86, 0.83])
    assert al_row.p_value == pytest.approx(expected_p) and al_row.statistic == pytest.approx(expected_t)
    assert al_row.n == 4 and al_row.n_pairs == 4 and bool(al_row.significant)
    assert al_row.mean_auc == pytest.approx(0.8325)
    ned = long[(long.data_size == 2000) & (long.imbalance_ratio == 0.01)]
    assert set(ned.status) == {"not_enough_data"} and ned.mean_auc.isna().all()
    assert math.isnan(long[long.strategy == "baseline"].p_value.iloc[0])


def test_auc_table_pairs_by_bootstrap_and_reports_failures():
    rows = _rows("baseline", 250, 0.05, [0.6, 0.7, 0.8])
    rows += _rows("al", 250, 0.05, [0.7, 0.8, 0.9])[:2]  # bootstrap 2 of al failed
    rows += [{"strategy": "al", "data_size": 250, "imbalance_ratio": 0.05, "bootstrap": 2, "length_group": "",
              "status": "failed", "auc": None}]
    rows += _rows("ap", 250, 0.05, [None, None], status="failed")
    long = auc_table(pd.DataFrame(rows)).long.set_index("strategy")
    assert long.loc["al", "n_pairs"] == 2 and long.loc["al", "n_failed"] == 1
    assert long.loc["ap", "status"] == "failed"
    table = auc_table(pd.DataFrame(rows)).table
    assert table.loc[(250, "HuMAL-AP"), "5%"] == "failed"


def test_auc_table_with_length_groups_is_table4():
    rows = _rows("baseline", 250, 0.05, [0.7, 0.8], length_group="yelp50")
    rows += _rows("al", 250, 0.05, [0.8, 0.9], length_group="yelp50")
    rows += _rows("baseline", 250, 0.05, [None, None], status="not_enough_data", length_group="yelp200")
    rows += _rows("al", 250, 0.05, [None, None], status="not_enough_data", length_group="yelp200")
    table = auc_table(pd.DataFrame(rows)).table
    assert list(table.index.names) == ["length group", "data size", "strategy"]
    assert table.loc[("yelp200", 250, "HuMAL-AL"), "5%"] == "not enough data"
    assert table.loc[("yelp50", 250, "HuMAL-AL"), "5%"] == "0.85 (0.07)"


# ---------------------------------------------------------------------- Fig. 4
def test_lowess_follows_a_line_and_returns_one_value_per_size():
    x = np.repeat([50, 100, 200, 400, 800], 4)
    y = 0.5 + x / 2000
    xs, ys = lowess_curve(x, y, frac=0.2)
    assert list(xs) == [50, 100, 200, 400, 800]
    assert np.allclose(ys, 0.5 + xs / 2000, atol=1e-6)


def test_lowess_smooths_an_outlier_and_handles_few_points():
    x = np.arange(20, dtype=float)
    y = 0.8 + np.random.default_rng(0).normal(0, 0.01, 20)
    y[10] = 0.2
    _, ys = lowess_curve(x, y, frac=0.5)
    assert ys[10] > 0.5  # the robust iterations discount the outlier
    xs, ys = lowess_curve([1, 1, 2], [0.5, 0.7, 0.9], frac=0.2)  # too few points: means per x
    assert list(xs) == [1, 2] and ys == pytest.approx([0.6, 0.9])
    assert len(lowess_curve([], [])[0]) == 0


def test_lowess_over_repeated_sizes_is_defined_and_order_free():
    """A grid's shape: 3 sizes x 20 bootstraps. frac 0.2 would hold 12 points of one size."""
    rng = np.random.default_rng(1)
    x = np.repeat([250, 500, 1000], 20)
    y = 0.7 + x / 10000 + rng.normal(0, 0.03, x.size)
    means = [y[x == s].mean() for s in (250, 500, 1000)]
    xs, ys = lowess_curve(x, y, frac=0.2)
    assert list(xs) == [250, 500, 1000] and np.isfinite(ys).all()
    assert ys == pytest.approx(means, abs=0.03)  # close to the per-size means, between sizes' spread
    for seed in range(3):  # the same whatever the order of the rows
        shuffle = np.random.default_rng(seed).permutation(x.size)
        np.testing.assert_array_equal(lowess_curve(x[shuffle], y[shuffle], frac=0.2)[1], ys)
    assert lowess_curve(np.repeat([1, 2], 5), np.arange(10.0))[1] == pytest.approx([2.0, 7.0])  # 2 sizes: means


def test_effective_frac_widens_only_when_needed():
    from humal_nb.measures.stats import effective_frac

    assert effective_frac(np.repeat(np.arange(12), 20), 0.2) == 0.2  # 48 points reach past a neighbour
    assert effective_frac(np.repeat([250, 500, 1000], 20), 0.2) == pytest.approx(41 / 60)
    assert effective_frac(np.arange(50), 0.2) == 0.2


def test_size_to_reach_interpolates():
    sizes = np.array([100, 200, 400])
    aucs = np.array([0.70, 0.80, 0.90])
    assert size_to_reach(sizes, aucs, 0.85) == pytest.approx(300)
    assert size_to_reach(sizes, aucs, 0.70) == 100
    assert size_to_reach(sizes, aucs, 0.60) == 100
    assert math.isnan(size_to_reach(sizes, aucs, 0.95))


def _fig4_summary():
    rows = []
    sizes = [100, 200, 300, 400, 500]
    for size in sizes:
        # baseline: 0.60 at 100, +0.05 per 100 reviews; AL: the baseline's AUC 200 reviews later
        base = 0.60 + 0.05 * (size - 100) / 100
        al = min(0.60 + 0.05 * (size + 100) / 100, 0.95)
        rows += _rows("baseline", size, 0.05, [base] * 3)
        rows += _rows("al", size, 0.05, [al] * 3)
        rows += _rows("al", size, 0.01, [0.5] * 3)  # another ratio: ignored
    return pd.DataFrame(rows)


def test_smoothed_auc_columns():
    curves = smoothed_auc(_fig4_summary(), 0.05)
    assert set(curves.strategy) == {"baseline", "al"}
    base = curves[curves.strategy == "baseline"]
    assert list(base.data_size) == [100, 200, 300, 400, 500]
    assert base.auc_lowess.to_numpy() == pytest.approx([0.60, 0.65, 0.70, 0.75, 0.80], abs=1e-6)
    assert (base.n == 3).all()


def test_data_requirement_baseline_needs_200_more_reviews():
    req = data_requirement(_fig4_summary(), 0.05).set_index("data_size")
    assert req.loc[100, "al_auc"] == pytest.approx(0.70, abs=1e-6)
    assert req.loc[100, "baseline_size_needed"] == pytest.approx(300, abs=1e-3)
    assert req.loc[200, "labels_saved"] == pytest.approx(200, abs=1e-3)
    assert req.loc[300, "baseline_size_needed"] == pytest.approx(500, abs=1e-3)
    # AL at 400 and 500 (0.85, 0.90) is beyond the baseline's best (0.80)
    assert math.isnan(req.loc[400, "baseline_size_needed"]) and math.isnan(req.loc[500, "labels_saved"])
    assert req.loc[500, "note"] == "more than the largest size (500)"
    assert req.loc[100, "note"] == ""


def test_data_requirement_without_runs_is_empty():
    assert data_requirement(_fig4_summary(), 0.2).empty


def test_auc_table_keeps_other_varied_parameters_apart():
    rows = [{**r, "alpha": 1.0} for r in _rows("baseline", 250, 0.05, [0.7, 0.8, 0.75])]
    rows += [{**r, "alpha": 1.0} for r in _rows("al", 250, 0.05, [0.72, 0.78, 0.76])]
    rows += [{**r, "alpha": 2.0} for r in _rows("baseline", 250, 0.05, [0.7, 0.8, 0.75])]
    rows += [{**r, "alpha": 2.0} for r in _rows("al", 250, 0.05, [0.9, 0.95, 0.93])]
    result = auc_table(pd.DataFrame(rows))
    assert list(result.table.index.names) == ["alpha", "data size", "strategy"]
    assert "*" not in result.table.loc[(1.0, 250, "HuMAL-AL"), "5%"]
    assert result.table.loc[(2.0, 250, "HuMAL-AL"), "5%"].startswith("0.93*")
    assert list(auc_table(pd.DataFrame(rows), by=[]).table.index.names) == ["data size", "strategy"]


def test_paired_difference_equivalence_and_detectable_effect():
    from humal_nb.measures import stats

    base = np.array([0.60, 0.70, 0.80, 0.90, 0.65, 0.75])
    same = base + np.array([0.001, -0.002, 0.0, 0.002, -0.001, 0.001])
    mean, low, high = stats.paired_difference(base, same)
    assert low < mean < high and abs(mean) < 0.002
    assert stats.equivalence_test(base, same) < 0.05  # within +-0.02: no gain is shown
    noisy = base + np.array([0.2, -0.15, 0.1, -0.05, 0.25, -0.1])
    assert stats.equivalence_test(base, noisy) > 0.05  # too spread to show equivalence
    assert stats.detectable_effect(base, noisy) > stats.detectable_effect(base, same) > 0
    assert math.isnan(stats.equivalence_test(base[:1], same[:1]))


def test_budget_curve_lines_use_the_bootstraps_the_budget_cells_ran():
    """Baseline and full-strategy means are over the budget cells' bootstraps (0-1 here), not
    every bootstrap of the setting; a folded summary and one without AUCs work."""
    from humal_nb.config import arms
    from humal_nb.measures.stats import budget_curve

    rows = [{"strategy": s, "data_size": 250, "imbalance_ratio": 0.01, "bootstrap": b, "status": "finished",
             "rationale_source": "human", "rationale_fraction": f, "auc": auc}
            for s, f, aucs in [("baseline", 1.0, [0.5, 0.6, 0.9, 0.9]), ("al", 1.0, [0.8, 0.9, 1.0, 1.0]),
                               ("al", 0.3, [0.7, 0.8])]
            for b, auc in enumerate(aucs)]
    summary = pd.DataFrame(rows)
    curve = budget_curve(summary).set_index("fraction")
    assert curve.loc[0.0, "mean_auc"] == pytest.approx(0.55) and curve.loc[0.0, "n"] == 2
    assert curve.loc[1.0, "mean_auc"] == pytest.approx(0.85) and curve.loc[1.0, "n"] == 2
    assert curve.loc[0.3, "mean_auc"] == pytest.approx(0.75)
    pd.testing.assert_frame_equal(budget_curve(arms.fold(summary)), budget_curve(summary))
    assert budget_curve(pd.DataFrame()).empty and budget_curve(summary.drop(columns="auc")).empty
