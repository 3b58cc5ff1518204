"""Verdicts that hold together (`stats.holm`, `stats.lower_bound`, `stats.share_of_gain`) and the
shortcut record's table (`worth.shortcut_table`) on a record written here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from humal_nb.analyses import worth
from humal_nb.measures import stats


def test_holm_matches_statsmodels_and_leaves_missing_p_values_out():
    p = [0.01, 0.04, np.nan, 0.03, 0.5]
    adjusted = stats.holm(p)
    assert np.isnan(adjusted[2])
    expected = multipletests([0.01, 0.04, 0.03, 0.5], method="holm")[1]
    assert np.allclose(adjusted[[0, 1, 3, 4]], expected)
    assert (adjusted[[0, 1, 3, 4]] >= np.array([0.01, 0.04, 0.03, 0.5])).all()


@pytest.mark.parametrize("seed", range(6))
def test_the_lower_bound_agrees_with_the_one_sided_test(seed):
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.6, 0.9, 12)
    other = base + rng.normal(0.02 * (seed - 2), 0.05, 12)
    p = stats.paired_test(base, other)[1]
    bound = stats.lower_bound(base, other)
    assert (bound > 0) == (p < 0.05)


def test_share_of_gain_has_a_paired_bootstrap_interval_that_is_repeatable():
    full = np.array([0.20, 0.25, 0.10, 0.30, 0.15, 0.22, 0.18, 0.27])
    part = full * 0.8 + np.array([0.01, -0.02, 0.03, -0.01, 0.0, 0.02, -0.03, 0.01])
    share, low, high = stats.share_of_gain(part, full)
    assert share == pytest.approx(part.mean() / full.mean())
    assert low < share < high and 0.6 < low and high < 1.0
    assert stats.share_of_gain(part, full) == (share, low, high)
    assert np.isnan(stats.share_of_gain(part[:2], full[:2])[1])  # too few pairs for an interval


def _shortcut_summary(protects: float) -> pd.DataFrame:
    """Ten bootstraps at 250 x 50 %: the baseline loses 0.3 AUC on the flipped test, HuMAL-AL on
    people's rationales loses `protects` less, random-outside as much as the baseline."""
    rng = np.random.default_rng(1)
    rows = []
    for b in range(10):
        base_drop = 0.3 + rng.normal(0, 0.03)
        for key, source, drop in (("baseline", "human", base_drop), ("al", "human", base_drop - protects + rng.normal(0, 0.01)),
                                  ("al", "random_outside", base_drop + rng.normal(0, 0.01))):
            rows.append({"cell": f"{key}_{source}_b{b}", "strategy": key, "data_size": 250, "imbalance_ratio": 0.5,
                         "bootstrap": b, "rationale_source": source, "rationale_fraction": 1.0,
                         "status": "finished", "auc": 0.99, "auc_flipped": 0.99 - drop})
    return pd.DataFrame(rows)


def test_the_shortcut_table_measures_reliance_and_says_who_relies_less():
    table = worth.shortcut_table(_shortcut_summary(protects=0.2))
    assert list(table["strategy"]) == ["baseline", "al", "al+random_outside"]
    base = table.iloc[0]
    assert base["n"] == 10 and base["reliance"] == pytest.approx(base["auc"] - base["auc_flipped"])
    assert base["reliance_low"] < base["reliance"] < base["reliance_high"]
    people = table[table["strategy"] == "al"].iloc[0]
    assert people["verdict"] == "relies less than the baseline"
    assert people["vs_baseline"]["gain"] == pytest.approx(0.2, abs=0.02)
    outside = table[table["strategy"] == "al+random_outside"].iloc[0]
    assert outside["verdict"] != "relies less than the baseline"
    text = worth.shortcut_markdown(table)
    assert "HuMAL-AL on random-outside rationales" in text and "Holm p" in text
    none = worth.shortcut_table(_shortcut_summary(protects=0.0))
    assert none[none["strategy"] == "al"].iloc[0]["verdict"] != "relies less than the baseline"


def test_a_record_without_flipped_aucs_has_no_shortcut_rows():
    summary = _shortcut_summary(0.2).drop(columns=["auc_flipped"])
    assert worth.shortcut_table(summary).empty


@pytest.mark.heavy
def test_tables_and_figures_of_a_shortcut_record_show_clean_and_flipped_auc(tmp_path):
    """On the committed shortcut pilot: `humal-nb tables` writes the reliance table, `figures` the
    clean-against-flipped figure, and both carry the measured numbers."""
    from humal_nb.core.paths import REPO_ROOT
    from humal_nb.publication import figures, tables

    pilot = REPO_ROOT / "outputs" / "replication" / "shortcut_pilot"
    written = tables.write_tables(pilot, "csv,markdown", out=tmp_path / "tables")
    csv = tmp_path / "tables" / "shortcut_reliance.csv"
    assert csv in written.files
    numbers = pd.read_csv(csv)
    summary = pd.read_csv(pilot / "summary.csv")
    at = numbers[(numbers["imbalance_ratio"] == 0.5)].iloc[0]
    cell = summary[(summary["imbalance_ratio"] == 0.5) & (summary["shortcut_rate"] == 0.25)].iloc[0]
    assert at["n"] == 1 and len(numbers) == 6  # one bootstrap per rate: a row per rate, never pooled
    assert "flipped AUC" in (tmp_path / "tables" / "shortcut_reliance.md").read_text()
    assert 0.0 <= cell["auc_flipped"] < cell["auc"]
    drawn = figures.write_figures(pilot, out=tmp_path / "figures", formats="svg")
    svg = tmp_path / "figures" / "fig_shortcut.svg"
    assert svg in drawn.files and "flipped test" in svg.read_text()


def test_table_v_keeps_training_sizes_apart_and_prints_the_rate_in_percent(tmp_path):
    """On the committed replication record (250 and 500 reviews at 1 %): a row per size, the
    high-attention rate in percent with its unit, the CSV's numbers per size."""
    from humal_nb.core.paths import REPO_ROOT
    from humal_nb.publication import tables

    record = REPO_ROOT / "outputs" / "replication" / "table3"
    tables.write_tables(record, "csv,markdown", out=tmp_path)
    numbers = pd.read_csv(tmp_path / "table5_attention.csv")
    al_1 = numbers[(numbers["strategy"] == "al") & (numbers["imbalance_ratio"] == 0.01)]
    assert sorted(al_1["data_size"]) == [250, 500]
    summary = pd.read_csv(record / "summary.csv")
    cells = summary[(summary["strategy"] == "al") & (summary["imbalance_ratio"] == 0.01)
                    & (summary["data_size"] == 500) & (summary["status"] == "finished")]
    assert al_1[al_1["data_size"] == 500]["n"].iloc[0] == len(cells)
    text = (tmp_path / "table5_attention.md").read_text()
    assert "| data size |" in text and "high-attention rate (%) @ 1%" in text
    rate = 100 * cells["high_attention_rate"].mean()
    assert "| HuMAL-AL | 500 |" in text and f"{rate:.1f} (" in text
