"""Significance and the paper's result tables over a grid's `summary.csv` (paper sec. V).

- `paired_test`: one-sided paired t-test that a strategy beats the baseline over the
  matched bootstraps (same bootstrap index = same training subset).
- `auc_table`: Table III and Table IV: "mean (std)" AUC per strategy and cell, with the
  p-value of the paired test, starred where the strategy beats the baseline at p < 0.05.
- `lowess_curve`, `smoothed_auc`, `data_requirement`: Fig. 4, AUC against training size
  smoothed with lowess (frac 0.2), and how many labeled reviews the baseline needs to
  match HuMAL-AL.

Every function takes a plain summary DataFrame, one row per grid cell, with at least
`strategy`, `data_size`, `imbalance_ratio`, `bootstrap`, `status` and `auc`
(`length_group` optional): exactly what `humal_nb.experiments.grid` writes to `summary.csv`.

(Over 500 lines: the paired tests and the paper's Table III / IV builders share their
grouping of summary.csv's cells (`_prepare`, `_group_keys`); split, each would carry a copy.)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from humal_nb.config import arms
from humal_nb.core.markup import format_ratio  # noqa: F401 - stats.format_ratio, as the tables use it
from humal_nb.core.names import ARM_KEYS, STATUS_FINISHED, STATUS_NOT_ENOUGH_DATA, STRATEGIES, STRATEGY_LABELS

ALPHA = 0.05
STRATEGY_ORDER = STRATEGIES  # the order of the tables' rows
NOT_ENOUGH_DATA = STATUS_NOT_ENOUGH_DATA  # the status in summary.csv
NOT_ENOUGH_DATA_TEXT = "not enough data"  # what a table cell reads
FINISHED = STATUS_FINISHED


def paired_test(baseline_aucs: list[float] | np.ndarray, strategy_aucs: list[float] | np.ndarray) -> tuple[float, float]:
    """(t statistic, one-sided p) that the strategy's AUC is greater than the baseline's.

    The two sequences are matched by bootstrap (element i of each saw the same training
    subset); pairs with a missing value on either side are dropped. A paired t-test
    (`scipy.stats.ttest_rel(strategy, baseline, alternative="greater")`) is used, as the
    bootstraps' AUC differences are roughly normal; with fewer than 2 pairs, or when every
    difference is the same, the p-value is NaN.
    """
    base = np.asarray(baseline_aucs, dtype=float)
    strat = np.asarray(strategy_aucs, dtype=float)
    if base.shape != strat.shape:
        raise ValueError(f"paired_test needs matched sequences, got {base.shape} and {strat.shape}.")
    keep = np.isfinite(base) & np.isfinite(strat)
    base, strat = base[keep], strat[keep]
    if len(base) < 2:
        return float("nan"), float("nan")
    diff = strat - base
    if np.allclose(diff, diff[0]):
        return float("nan"), float("nan")  # no variance: the t statistic is undefined
    result = scipy_stats.ttest_rel(strat, base, alternative="greater")
    return float(result.statistic), float(result.pvalue)


#: the equivalence margin of a "no gain" verdict: AUC differences within +-0.02 count as no gain
EQUIVALENCE_MARGIN = 0.02
#: the power at which `detectable_effect` states what a number of pairs could have found
POWER = 0.8


def _paired(baseline_aucs, strategy_aucs) -> np.ndarray:
    """strategy - baseline per matched pair, pairs with a missing value dropped."""
    base = np.asarray(baseline_aucs, dtype=float)
    strat = np.asarray(strategy_aucs, dtype=float)
    if base.shape != strat.shape:
        raise ValueError(f"paired statistics need matched sequences, got {base.shape} and {strat.shape}.")
    keep = np.isfinite(base) & np.isfinite(strat)
    return strat[keep] - base[keep]


def paired_difference(baseline_aucs, strategy_aucs, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the strategy's mean AUC gain over the baseline across matched
    bootstraps and its `level` t-interval (NaN bounds with fewer than 2 pairs or no spread)."""
    diff = _paired(baseline_aucs, strategy_aucs)
    if not len(diff):
        return float("nan"), float("nan"), float("nan")
    mean = float(diff.mean())
    if len(diff) < 2 or np.allclose(diff, diff[0]):
        return mean, float("nan"), float("nan")
    low, high = scipy_stats.t.interval(level, len(diff) - 1, loc=mean, scale=scipy_stats.sem(diff))
    return mean, float(low), float(high)


def lower_bound(baseline_aucs, strategy_aucs, level: float = 0.95) -> float:
    """The one-sided `level` lower confidence bound of the mean paired gain (strategy - baseline):
    the interval that matches `paired_test` (it lies above 0 exactly where that test's p is below
    1 - `level`). NaN with fewer than 2 pairs or no spread."""
    diff = _paired(baseline_aucs, strategy_aucs)
    if len(diff) < 2 or np.allclose(diff, diff[0]):
        return float("nan")
    return float(diff.mean() - scipy_stats.t.ppf(level, len(diff) - 1) * scipy_stats.sem(diff))


def holm(p_values: list[float] | np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Holm-adjusted p-values over one family of comparisons (`statsmodels`' `multipletests`);
    NaN p-values (too few pairs) stay NaN and are not counted in the family."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        out[finite] = multipletests(p[finite], alpha=alpha, method="holm")[1]
    return out


#: resamples and seed of the bootstrap intervals of shares of a gain (repeatable to the last digit)
SHARE_RESAMPLES = 9999
SHARE_SEED = 0


def share_of_gain(part_gain: list[float] | np.ndarray, full_gain: list[float] | np.ndarray,
                  level: float = 0.95) -> tuple[float, float, float]:
    """(share, low, high): mean(part_gain) / mean(full_gain) over matched bootstraps (e.g. what
    random rationales or a budget keep of HuMAL-AL's gain over the baseline), with the paired
    percentile bootstrap interval (`scipy.stats.bootstrap`, resampling bootstraps). NaN bounds
    with fewer than 3 pairs."""
    part, full = np.asarray(part_gain, dtype=float), np.asarray(full_gain, dtype=float)
    keep = np.isfinite(part) & np.isfinite(full)
    part, full = part[keep], full[keep]
    if not len(part) or full.mean() == 0:
        return float("nan"), float("nan"), float("nan")
    share = float(part.mean() / full.mean())
    if len(part) < 3:
        return share, float("nan"), float("nan")

    def ratio(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return a.mean(axis=axis) / b.mean(axis=axis)

    result = scipy_stats.bootstrap((part, full), ratio, paired=True, vectorized=True, confidence_level=level,
                                   n_resamples=SHARE_RESAMPLES, method="percentile",
                                   rng=np.random.default_rng(SHARE_SEED))
    low, high = result.confidence_interval
    return share, float(low), float(high)


def equivalence_test(baseline_aucs, strategy_aucs, margin: float = EQUIVALENCE_MARGIN) -> float:
    """p-value of the paired two one-sided tests (TOST, `statsmodels`' `ttost_paired`) that the
    strategy's AUC is within +-`margin` of the baseline's: below 0.05, "no gain" is shown, not
    just not rejected. NaN with fewer than 2 pairs or no spread."""
    from statsmodels.stats.weightstats import ttost_paired

    diff = _paired(baseline_aucs, strategy_aucs)
    if len(diff) < 2 or np.allclose(diff, diff[0]):
        return float("nan")
    p, _, _ = ttost_paired(diff, np.zeros_like(diff), -margin, margin)
    return float(p)


def detectable_effect(baseline_aucs, strategy_aucs, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest mean AUC gain the one-sided paired t-test on these pairs would find with
    probability `power` at `alpha`, taking the pairs' spread as the true one (statsmodels'
    `TTestPower`): what "no significant gain" from n pairs could and could not have seen."""
    from statsmodels.stats.power import TTestPower

    diff = _paired(baseline_aucs, strategy_aucs)
    if len(diff) < 2 or np.allclose(diff, diff[0]):
        return float("nan")
    d = TTestPower().solve_power(nobs=len(diff), alpha=alpha, power=power, alternative="larger")
    return float(d * diff.std(ddof=1))


def format_cell(mean: float, std: float, p: float | None = None, alpha: float = ALPHA) -> str:
    """'0.93 (0.02)', and with the paired test's p-value, starred or not: '0.96* (0.02) p=0.003'
    where p < alpha, '0.93 (0.02) p=0.210' where not."""
    if mean is None or not math.isfinite(mean):
        return ""
    std_text = f"{std:.2f}" if std is not None and math.isfinite(std) else "-"
    if p is None or not math.isfinite(p):
        return f"{mean:.2f} ({std_text})"
    star = "*" if p < alpha else ""
    return f"{mean:.2f}{star} ({std_text}) p={_format_p(p)}"


def _format_p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


# summary.csv columns that are not parameters of a cell
RESULT_COLUMNS = ("cell", "status", "auc", "auc_flipped", "accuracy", "f1", "cosine_to_human", "high_attention_rate",
                  "train_seconds", "error")
TABLE_AXES = ("strategy", "data_size", "imbalance_ratio", "bootstrap", "length_group")


def extra_keys(summary: pd.DataFrame) -> list[str]:
    """Parameters besides the paper's axes that take several values in the summary (e.g. alpha,
    model): tables keep them apart instead of averaging over them."""
    return [
        c for c in summary.columns
        if c not in RESULT_COLUMNS and c not in TABLE_AXES and c not in ARM_KEYS
        and summary[c].astype(str).nunique() > 1
    ]


def _group_keys(summary: pd.DataFrame, by: list[str] | None) -> list[str]:
    """Table axes besides strategy and ratio: other varied parameters, length group (when the
    grid has one) and size."""
    keys = list(extra_keys(summary) if by is None else by)
    if "length_group" in summary.columns and summary["length_group"].fillna("").astype(str).ne("").any():
        keys.append("length_group")
    return [*keys, "data_size"]


def _prepare(summary: pd.DataFrame) -> pd.DataFrame:
    """A copy with the arms folded into `strategy` (`arms.fold`) and the status and AUC typed."""
    frame = arms.fold(summary).copy()
    if "length_group" in frame.columns:
        frame["length_group"] = frame["length_group"].fillna("").astype(str)
    if "status" not in frame.columns:
        frame["status"] = np.where(frame["auc"].notna(), FINISHED, "missing")
    frame["status"] = frame["status"].fillna("missing").astype(str)
    frame["auc"] = pd.to_numeric(frame["auc"], errors="coerce")
    return frame


def _strategies(frame: pd.DataFrame) -> list[str]:
    """The strategies (and their arms) present, in the paper's order (`arms.sort_key`)."""
    return sorted(dict.fromkeys(frame["strategy"].astype(str)), key=arms.sort_key)


class AucTable(NamedTuple):
    """`table`: the formatted table (rows: [length group,] size, strategy; columns: ratio).
    `long`: one row per (cell, strategy) with n, mean, std, statistic, p, significant, status."""

    table: pd.DataFrame
    long: pd.DataFrame


def auc_table(summary: pd.DataFrame, alpha: float = ALPHA, by: list[str] | None = None) -> AucTable:
    """Table III (and Table IV when the grid has length groups) from a grid summary.

    Each cell is the mean (std) AUC over the finished bootstraps; a strategy is starred
    with its p-value where it beats the baseline in `paired_test` at p < alpha. A cell the
    data cannot fill (status `not_enough_data`) reads "not enough data"; one whose every run failed reads "failed";
    one with no run yet is empty. Rows are kept apart by `by` (default: `extra_keys`, the
    other parameters the grid varies).
    """
    frame = _prepare(summary)
    keys = _group_keys(frame, by)
    strategies = _strategies(frame)
    rows = []
    for group_values, group in frame.groupby([*keys, "imbalance_ratio"], sort=True, dropna=False):
        group_values = group_values if isinstance(group_values, tuple) else (group_values,)
        base = group[(group["strategy"] == "baseline") & (group["status"] == FINISHED)]
        base_by_boot = base.groupby("bootstrap")["auc"].mean()
        for strategy in strategies:
            runs = group[group["strategy"] == strategy]
            done = runs[runs["status"] == FINISHED]
            aucs = done["auc"].dropna()
            row = dict(zip([*keys, "imbalance_ratio"], group_values))
            row.update(
                strategy=strategy,
                n=int(len(aucs)),
                n_failed=int((runs["status"] == "failed").sum()),
                mean_auc=float(aucs.mean()) if len(aucs) else float("nan"),
                std_auc=float(aucs.std(ddof=1)) if len(aucs) > 1 else float("nan"),
                statistic=float("nan"),
                p_value=float("nan"),
                n_pairs=0,
            )
            if strategy != "baseline" and len(done):
                strat_by_boot = done.groupby("bootstrap")["auc"].mean()
                common = base_by_boot.index.intersection(strat_by_boot.index)
                statistic, p = paired_test(base_by_boot[common].to_numpy(), strat_by_boot[common].to_numpy())
                row.update(statistic=statistic, p_value=p, n_pairs=int(len(common)))
            if (runs["status"] == NOT_ENOUGH_DATA).any() or (
                runs.empty and (group["status"] == NOT_ENOUGH_DATA).any()
            ):
                row["status"] = NOT_ENOUGH_DATA
            elif row["n"]:
                row["status"] = FINISHED
            elif row["n_failed"]:
                row["status"] = "failed"
            else:
                row["status"] = "missing"
            row["significant"] = bool(math.isfinite(row["p_value"]) and row["p_value"] < alpha)
            rows.append(row)
    columns = [*keys, "imbalance_ratio", "strategy", "n", "n_failed", "mean_auc", "std_auc",
               "statistic", "p_value", "n_pairs", "significant", "status"]
    long = pd.DataFrame(rows, columns=columns)
    return AucTable(_format_table(long, keys, strategies, alpha), long)


def _format_table(long: pd.DataFrame, keys: list[str], strategies: list[str], alpha: float) -> pd.DataFrame:
    if long.empty:
        return pd.DataFrame()
    ratios = sorted(long["imbalance_ratio"].unique())

    def text(row: pd.Series) -> str:
        if row["status"] == NOT_ENOUGH_DATA:
            return NOT_ENOUGH_DATA_TEXT
        if row["status"] == "failed":
            return "failed"
        return format_cell(row["mean_auc"], row["std_auc"], row["p_value"], alpha)

    long = long.assign(text=long.apply(text, axis=1), label=long["strategy"].map(arms.label))
    table = long.pivot_table(index=[*keys, "strategy"], columns="imbalance_ratio", values="text", aggfunc="first")
    order = {s: i for i, s in enumerate(strategies)}
    table = table.reset_index()
    table["_order"] = table["strategy"].map(order)
    table = table.sort_values([*keys, "_order"]).drop(columns="_order")
    table["strategy"] = table["strategy"].map(arms.label)
    table = table.set_index([*keys, "strategy"])
    table = table.reindex(columns=ratios).fillna("")
    table.columns = [format_ratio(r) for r in ratios]
    table.columns.name = "imbalance ratio"
    table.index = table.index.set_names(
        [{"length_group": "length group", "data_size": "data size"}.get(k, k) for k in table.index.names]
    )
    return table


# ---------------------------------------------------------------------- the annotation budget
def budget_curve(summary: pd.DataFrame) -> pd.DataFrame:
    """AUC against the share of training reviews with a rationale (`rationale_fraction`), per
    size, ratio, strategy and rationale source: mean, std and n over the finished bootstraps.
    The baseline's rows carry fraction 0 and the full strategy's fraction 1; both are taken
    over the bootstraps the setting's budget cells ran, so the lines pair with the curve (as
    the README's budget table pairs them). Empty where the summary has no budget below 1.
    A summary with its arms folded already (`arms.fold`) works too."""
    columns = ["data_size", "imbalance_ratio", "strategy", "rationale_source", "fraction", "mean_auc", "std_auc", "n"]
    if summary.empty or not {"strategy", "auc", "data_size", "imbalance_ratio"} <= set(summary.columns):
        return pd.DataFrame(columns=columns)
    frame = _prepare(summary)
    frame = frame[frame["status"] == FINISHED].dropna(subset=["auc"])
    parts = frame["strategy"].map(arms.split_key)
    frame = frame.assign(base=[p[0] for p in parts], rationale_source=[p[1] for p in parts],
                         fraction=[0.0 if p[0] == "baseline" else p[2] for p in parts])
    budgets = frame[(frame["fraction"] > 0) & (frame["fraction"] < 1)]
    if budgets.empty:
        return pd.DataFrame(columns=columns)
    # the settings and (strategy, source) pairs that have a budget, and their baselines
    keys = ["data_size", "imbalance_ratio", "base", "rationale_source"]
    budgeted = budgets[keys].drop_duplicates()
    settings = budgeted[["data_size", "imbalance_ratio"]].drop_duplicates()
    frame = pd.concat([frame.merge(budgeted, on=keys),
                       frame[frame["base"] == "baseline"].merge(settings, on=["data_size", "imbalance_ratio"])])
    if "bootstrap" in frame.columns:  # the lines over the bootstraps the budget cells ran
        ran = budgets[["data_size", "imbalance_ratio", "bootstrap"]].drop_duplicates()
        frame = frame.merge(ran, on=["data_size", "imbalance_ratio", "bootstrap"])
    rows = []
    for (size, ratio, base, source, fraction), g in frame.groupby(
            ["data_size", "imbalance_ratio", "base", "rationale_source", "fraction"], sort=True):
        rows.append({"data_size": size, "imbalance_ratio": ratio, "strategy": base, "rationale_source": source,
                     "fraction": fraction, "mean_auc": g["auc"].mean(),
                     "std_auc": g["auc"].std(ddof=1) if len(g) > 1 else float("nan"), "n": len(g)})
    return pd.DataFrame(rows, columns=columns)


# ---------------------------------------------------------------------- Fig. 4
def lowess_curve(x: list[float] | np.ndarray, y: list[float] | np.ndarray, frac: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Lowess-smoothed y at each distinct x, sorted by x (statsmodels, `frac` of the points).

    Points with a missing value are dropped. With fewer than 3 points or 3 distinct x, or a
    neighbourhood of fewer than 2 points, the smoothing degenerates and the mean y per x is
    returned instead. A grid repeats every size once per bootstrap, so a neighbourhood of `frac` of the points
    may hold a single size (or one size plus the zero-weight edge of the next), where a local
    line is not defined: `frac` is then widened to the smallest share whose neighbourhoods
    always hold points at two sizes with weight (`effective_frac`). Points are sorted by
    (x, y) first, so the result does not depend on the order of the rows.
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if len(xs) == 0:
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((ys, xs))
    xs, ys = xs[order], ys[order]
    unique = np.unique(xs)
    if len(xs) < 3 or frac * len(xs) < 2 or len(unique) < 3:  # no local line through < 3 sizes
        return unique, np.array([ys[xs == u].mean() for u in unique])
    frac = effective_frac(xs, frac)
    with np.errstate(divide="ignore", invalid="ignore"):  # exact fits have zero residual spread
        fitted = lowess(ys, xs, frac=frac, return_sorted=True)
        if not np.isfinite(fitted[:, 1]).all():
            fitted = lowess(ys, xs, frac=frac, it=0, return_sorted=True)
    return unique, np.array([fitted[fitted[:, 0] == u, 1].mean() for u in unique])


def effective_frac(x: np.ndarray, frac: float) -> float:
    """`frac`, widened where needed so that every lowess neighbourhood reaches past the
    nearest other x: more points than the two most repeated x values hold together."""
    _, counts = np.unique(np.asarray(x, dtype=float), return_counts=True)
    if len(counts) < 3:
        return 1.0
    needed = int(np.sort(counts)[-2:].sum()) + 1
    return float(min(1.0, max(frac, needed / len(x))))


def smoothed_auc(
    summary: pd.DataFrame,
    ratio: float,
    strategies: tuple[str, ...] = ("baseline", "al"),
    frac: float = 0.2,
) -> pd.DataFrame:
    """AUC against training size at one imbalance ratio: per strategy and size, the mean and
    std over bootstraps and the lowess curve over every bootstrap's AUC (Fig. 4)."""
    frame = _prepare(summary)
    frame = frame[np.isclose(frame["imbalance_ratio"].astype(float), ratio) & (frame["status"] == FINISHED)]
    rows = []
    for strategy in strategies:
        runs = frame[frame["strategy"] == strategy].dropna(subset=["auc"])
        if runs.empty:
            continue
        sizes, smooth = lowess_curve(runs["data_size"], runs["auc"], frac=frac)
        stats_by_size = runs.groupby("data_size")["auc"].agg(["mean", "std", "count"])
        for size, value in zip(sizes, smooth):
            s = stats_by_size.loc[size]
            rows.append({
                "strategy": strategy,
                "data_size": int(size),
                "auc_lowess": float(value),
                "mean_auc": float(s["mean"]),
                "std_auc": float(s["std"]) if s["count"] > 1 else float("nan"),
                "n": int(s["count"]),
            })
    return pd.DataFrame(rows, columns=["strategy", "data_size", "auc_lowess", "mean_auc", "std_auc", "n"])


def size_to_reach(sizes: np.ndarray, aucs: np.ndarray, target: float) -> float:
    """Smallest training size where the piecewise-linear curve (sizes, aucs) reaches `target`.

    Returns the first size when the curve starts at or above the target, and NaN when it
    never reaches it within the sizes given.
    """
    sizes = np.asarray(sizes, dtype=float)
    aucs = np.asarray(aucs, dtype=float)
    if len(sizes) == 0 or not math.isfinite(target):
        return float("nan")
    if aucs[0] >= target:
        return float(sizes[0])
    for i in range(1, len(sizes)):
        if aucs[i] >= target:
            x0, x1, y0, y1 = sizes[i - 1], sizes[i], aucs[i - 1], aucs[i]
            return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))
    return float("nan")


def data_requirement(
    summary: pd.DataFrame, ratio: float, strategy: str = "al", frac: float = 0.2
) -> pd.DataFrame:
    """How many labeled reviews the baseline needs to match `strategy` at each size (Fig. 4).

    Both AUC-vs-size curves are lowess-smoothed (`smoothed_auc`); for each size, the
    strategy's smoothed AUC is looked up on the baseline's smoothed curve (linear
    interpolation between sizes). Columns: `data_size`, `baseline_auc`, `<strategy>_auc`,
    `baseline_size_needed` (NaN when the baseline never gets there: more than the largest
    size), `labels_saved` (needed - size) and `note`.
    """
    curves = smoothed_auc(summary, ratio, strategies=("baseline", strategy), frac=frac)
    base = curves[curves["strategy"] == "baseline"].sort_values("data_size")
    other = curves[curves["strategy"] == strategy].sort_values("data_size")
    columns = ["data_size", "baseline_auc", f"{strategy}_auc", "baseline_size_needed", "labels_saved", "note"]
    if base.empty or other.empty:
        return pd.DataFrame(columns=columns)
    base_sizes, base_aucs = base["data_size"].to_numpy(float), base["auc_lowess"].to_numpy(float)
    rows = []
    for size, target in zip(other["data_size"], other["auc_lowess"]):
        needed = size_to_reach(base_sizes, base_aucs, target)
        if math.isnan(needed):
            note = f"more than the largest size ({int(base_sizes[-1])})"
        elif needed == base_sizes[0] and base_aucs[0] >= target:
            note = f"at most the smallest size ({int(base_sizes[0])})"
        else:
            note = ""
        match = base[base["data_size"] == size]["auc_lowess"]
        rows.append({
            "data_size": int(size),
            "baseline_auc": float(match.iloc[0]) if len(match) else float("nan"),
            f"{strategy}_auc": float(target),
            "baseline_size_needed": needed,
            "labels_saved": needed - size if math.isfinite(needed) else float("nan"),
            "note": note,
        })
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "ALPHA",
    "NOT_ENOUGH_DATA",
    "NOT_ENOUGH_DATA_TEXT",
    "STRATEGY_LABELS",
    "AucTable",
    "data_requirement",
    "extra_keys",
    "format_cell",
    "format_ratio",
    "lowess_curve",
    "paired_test",
    "size_to_reach",
    "smoothed_auc",
    "auc_table",
    "budget_curve",
    "detectable_effect",
    "equivalence_test",
    "paired_difference",
]
