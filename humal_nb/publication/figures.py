"""The paper's figures as publication files (`humal-nb figures DIR`): vector PDF and SVG, 300-dpi PNG.

`write_figures(folder)` writes every figure the folder can give:

- a **grid** (`summary.csv`): Fig. 3, mean AUC (95 % t-interval over bootstraps) against the imbalance
  ratio, a panel per training size and a line per strategy or control arm (`stats.auc_table`,
  the HTML report's numbers); Fig. 4, AUC against training size with the lowess curve
  (`stats.smoothed_auc`) at each ratio with at least three sizes; Fig. 5, the loss per
  epoch, mean over the bootstraps of each size and ratio (the cells' `metrics.json`); the
  annotation budget (`stats.budget_curve`) where the grid varies `rationale_fraction`;
- a **run**, or a **comparison** (a run with its `baseline/`): Fig. 5, the loss per epoch of
  each model; Fig. 6, attention by relative position for human, baseline and HuMAL
  (`analysis.position_curves`); review heatmaps (human / baseline / HuMAL rows) of the
  reviews asked for, else of two example reviews (`compare.example_reviews`).

A figure the folder cannot give is skipped with a note saying why (`publication.Written`).

Why matplotlib and not plotly (which draws the HTML reports): plotly writes static files
through kaleido, which drives a headless Chromium that a paper's build machine or a CI box
often lacks and that must match plotly's version; matplotlib writes vector PDF and SVG
itself, with fonts embedded and sizes set in inches, which is what a journal asks for.
Looks (palette, sizes, fonts, formats) live in `humal_nb.publication.figure_style`.

(Over 500 lines: every figure of the paper with its caption, drawn in one style; each
figure is a builder and a caption of under 60 lines.)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from humal_nb.analyses import controls
from humal_nb.config import arms, readers, runs
from humal_nb.core import markup
from humal_nb.core.names import FIRST_LAYER_STRATEGIES
from humal_nb.experiments import report
from humal_nb.measures import analysis, stats
from humal_nb.publication import figure_style
from humal_nb.publication import folders as publication
from humal_nb.publication.figure_style import ONE_COLUMN, TWO_COLUMN
from humal_nb.publication.folders import Written

EXAMPLE_REVIEWS = 2  # heatmaps drawn when no review is asked for


def write_figures(
    folder: str | Path,
    out: str | Path | None = None,
    formats: str | Sequence[str] = figure_style.FORMATS,
    reviews: Sequence[str] | None = None,
    paired_with: str | Path | None = None,
) -> Written:
    """Every figure of a run, a comparison or a grid, into `out` (default `folder/figures`).

    Args:
        folder: a grid's folder (with summary.csv) or a finished run's (its baseline/ is drawn beside).
        out: the folder the figures go to.
        formats: 'pdf,svg,png' or a list of them (`figure_style.FORMATS`).
        reviews: review ids for the heatmaps (a run only); default two example reviews.
        paired_with: for a grid of control arms, the record whose baseline and strategy cells
            they pair with (e.g. outputs/replication/table3 beside outputs/replication/controls).
    Returns:
        `Written`: the files, and a note for each figure skipped.
    """
    folder = Path(folder)
    kind = publication.folder_kind(folder)
    formats = figure_style.parse_formats(formats)
    paired = publication.paired_record(folder, paired_with, kind)
    out_dir = readers.output_folder(out if out else folder / "figures")
    with figure_style.style():
        if kind == publication.GRID:
            written = grid_figures(folder, out_dir, formats, paired)
            if reviews:
                written.notes.append("review heatmaps: --reviews applies to a run, not a grid (its cells' "
                                     "attention.json); pass a cell's folder to draw its reviews.")
            return written
        return run_figures(folder, out_dir, formats, reviews)


# ---------------------------------------------------------------------- a grid
def grid_figures(folder: Path, out: Path, formats: Sequence[str], paired_with: Path | None = None) -> Written:
    """Fig. 3, 4 and 5 and the budget figure of a grid (see the module's docstring). With
    `paired_with`, a record of control arms is drawn beside that record's baseline and
    strategies (`controls.combined_summary`, as the README's Controls block pairs them)."""
    files: list[Path] = []
    notes: list[str] = []
    if paired_with is None:
        summary = report.read_summary(folder)
    else:
        arm_rows = publication.arm_rows(folder, paired_with)
        summary = controls.combined_summary(folder, paired_with)
    whole, by_length = report.split_by_length(summary)
    for part, what in ((whole, "whole data set"), (by_length, "length groups")):
        if part.empty:
            continue
        long = stats.auc_table(part).long.dropna(subset=["mean_auc"])
        if long.empty:
            notes.append(f"Fig. 3 ({what}): no finished run yet.")
        for name, group in _figure_groups(long, ["data_size", "imbalance_ratio", "strategy"], "fig3_auc_vs_ratio"):
            files += figure_style.save(auc_vs_ratio_figure(group), out, name, formats, auc_vs_ratio_caption(group))
    ratios = report.sizes_per_ratio(whole)
    if not ratios:
        sizes = sorted(whole.loc[whole["status"] == stats.FINISHED, "data_size"].unique())
        notes.append("Fig. 4 skipped: no imbalance ratio has finished runs at three or more training sizes "
                     f"(lowess needs three; this grid has sizes {', '.join(map(str, sizes)) or 'none'}).")
    for ratio in ratios:
        keys = tuple(sorted(dict.fromkeys(arms.fold(whole)["strategy"].astype(str)), key=arms.sort_key))
        curves = stats.smoothed_auc(whole, ratio, strategies=keys)
        files += figure_style.save(auc_vs_size_figure(curves), out, f"fig4_auc_vs_size_r{ratio:g}", formats,
                                   auc_vs_size_caption(curves, ratio))
    budget = stats.budget_curve(whole)
    for (size, ratio), curve in budget.groupby(["data_size", "imbalance_ratio"], sort=True):
        files += figure_style.save(budget_figure(curve), out, f"fig_budget_n{size}_r{ratio:g}", formats,
                                   budget_caption(curve))
    if "auc_flipped" in summary.columns and summary["auc_flipped"].notna().any():
        from humal_nb.analyses import worth

        table = worth.shortcut_table(summary)
        files += figure_style.save(shortcut_figure(table), out, "fig_shortcut", formats, shortcut_caption(table))
    if paired_with is None:
        losses = grid_losses(folder, summary)
    else:  # each record's cells from its own folder: the main record's, then the arms
        losses = pd.concat([grid_losses(paired_with, report.read_summary(paired_with)),
                            grid_losses(folder, arm_rows)], ignore_index=True)
    if losses.empty:
        notes.append("Fig. 5 skipped: no finished cell folder holds a metrics.json with a loss history.")
    for name, group in _figure_groups(losses, [*LOSS_COLUMNS], "fig5_loss"):
        files += figure_style.save(loss_figure(group), out, name, formats, loss_caption(group))
    return Written(files, notes)


def _figure_groups(frame: pd.DataFrame, inner: list[str], stem: str) -> list[tuple[str, pd.DataFrame]]:
    """One figure per value of the columns not in `inner` (e.g. alpha, length group), named
    `stem_<column>-<value>...`; a single figure named `stem` when there are none."""
    outer = [c for c in frame.columns if c not in inner and c not in AUC_VALUES and c not in LOSS_VALUES]
    if frame.empty:
        return []
    if not outer:
        return [(stem, frame)]
    groups = []
    for values, group in frame.groupby(outer, sort=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        label = "_".join(f"{_short(k)}{v:g}" if isinstance(v, float) else f"{_short(k)}{v}" for k, v in zip(outer, values))
        groups.append((f"{stem}_{label}", group))
    return groups


AUC_VALUES = ("n", "n_failed", "mean_auc", "std_auc", "statistic", "p_value", "n_pairs", "significant", "status")
SHORT_NAMES = {"data_size": "n", "imbalance_ratio": "r", "length_group": ""}


def _short(column: str) -> str:
    return SHORT_NAMES.get(column, f"{column}-")


def _ratio_axis(ax, ratios: Sequence[float]) -> None:
    ax.set_xticks(range(len(ratios)), [stats.format_ratio(r) for r in ratios])
    ax.set_xlim(-0.5, len(ratios) - 0.5)


CI_AXIS = "mean AUC, 95 % CI"
CI_BARS = ("bars: the 95 % confidence interval of the mean over the bootstraps (t-interval; none where a point "
           "has one bootstrap)")


def ci_half(std: Sequence[float] | pd.Series, n: Sequence[int] | pd.Series, level: float = 0.95) -> np.ndarray:
    """Half widths of the `level` t-intervals of means of `n` values with standard deviations `std`
    (0 where n < 2 or the std is missing)."""
    return np.array([scipy_t_half(float(s), int(k), level) for s, k in zip(std, n)])


def n_text(counts: Sequence[int] | pd.Series) -> str:
    """'n = 20', or 'n = 5–20' where the points of a series have different n."""
    values = sorted({int(c) for c in counts})
    if not values:
        return "n = 0"
    return f"n = {values[0]}" if len(values) == 1 else f"n = {values[0]}–{values[-1]}"


def points_text(long: pd.DataFrame, where: Sequence[str]) -> str:
    """n per point of a figure, for its caption: per setting (`where` columns, e.g. size and ratio)
    the n of each series, 'n = 5 each' where they agree."""
    parts = []
    for values, group in long.groupby(list(where), sort=True):
        values = values if isinstance(values, tuple) else (values,)
        setting = ", ".join(_setting_text(k, v) for k, v in zip(where, values))
        group = group.sort_values("strategy", key=lambda c: c.map(arms.sort_key))
        counts = [int(n) for n in group["n"]]
        if len(set(counts)) == 1:
            parts.append(f"{setting}: n = {counts[0]} each")
        else:
            parts.append(f"{setting}: " + ", ".join(f"{arms.label(k)} {n}" for k, n in zip(group["strategy"], counts)))
    return "; ".join(parts)


def _setting_text(column: str, value: object) -> str:
    if column == "data_size":
        return f"{value} reviews"
    if column == "imbalance_ratio":
        return f"ratio {stats.format_ratio(float(value))}"
    return f"{column} {value}"


def _series_gid(key: str, *where: object) -> str:
    """The SVG id of a series' group (`series-<key>-<where>`), so a test or an editor finds each line."""
    return figure_style.file_stem("series-" + "-".join(str(p) for p in (key, *where)))


def _series_labels(long: pd.DataFrame) -> dict[str, str]:
    """Legend label of each series: its name and n over the figure's points."""
    return {key: f"{arms.label(key)} ({n_text(part['n'])})" for key, part in long.groupby("strategy", sort=False)}


def auc_vs_ratio_figure(long: pd.DataFrame) -> Figure:
    """Fig. 3: mean AUC with its 95 % t-interval over the bootstraps against the imbalance ratio, a
    panel per training size, a line per strategy or arm (`figure_style.series_style`: its own colour
    and marker), n in the legend. `long`: `stats.auc_table(...).long` rows."""
    sizes = sorted(long["data_size"].unique())
    ratios = sorted(long["imbalance_ratio"].unique())
    keys = sorted(dict.fromkeys(long["strategy"].astype(str)), key=arms.sort_key)
    labels = _series_labels(long)
    ncols = min(4, len(sizes))
    nrows = -(-len(sizes) // ncols)
    fig, axes = figure_style.new_figure(ONE_COLUMN if ncols == 1 else TWO_COLUMN, 2.1 * nrows + 0.5,
                                        ncols=ncols, nrows=nrows, sharey=True)
    for i, size in enumerate(sizes):
        ax = axes[i // ncols][i % ncols]
        panel = long[long["data_size"] == size]
        for j, key in enumerate(keys):
            part = panel[panel["strategy"] == key].sort_values("imbalance_ratio")
            if part.empty:
                continue
            x = np.array([ratios.index(r) for r in part["imbalance_ratio"]]) + 0.08 * (j - (len(keys) - 1) / 2)
            bars = ax.errorbar(x, part["mean_auc"], yerr=ci_half(part["std_auc"], part["n"]), label=labels[key],
                               markersize=3.5, **figure_style.series_style(key))
            bars.lines[0].set_gid(_series_gid(key, size))
        _ratio_axis(ax, ratios)
        ax.set_title(f"{size} training reviews")
        ax.set_xlabel("imbalance ratio")
    for ax in axes[:, 0]:
        ax.set_ylabel(CI_AXIS)
    for ax in axes.flat[len(sizes):]:
        ax.set_visible(False)
    _legend(fig, axes, len(keys))
    return fig


def auc_vs_ratio_caption(long: pd.DataFrame) -> str:
    arms_too = any(arms.SEPARATOR in str(k) for k in long["strategy"])
    return (f"Mean test AUC against the imbalance ratio (the minority class's share of the training reviews), "
            f"a panel per training size, a line per strategy{' or control arm' if arms_too else ''}; {CI_BARS}. "
            f"n (bootstraps) per point: {points_text(long, ['data_size', 'imbalance_ratio'])}.")


def shortcut_figure(table: pd.DataFrame) -> Figure:
    """A planted shortcut: per size, ratio and rate (a panel each), every arm's mean AUC on the clean
    test set (filled marker) and on the flipped one (open marker, joined by a line: the drop is the
    reliance), with 95 % t-intervals of the mean over the bootstraps; n per arm in the labels.
    `table`: `worth.shortcut_table` rows."""
    from matplotlib.lines import Line2D

    panels = list(table.groupby(["data_size", "imbalance_ratio", "shortcut_rate"], sort=True, dropna=False))
    ncols = min(len(panels), 3) or 1
    nrows = -(-len(panels) // ncols) or 1
    fig, axes = figure_style.new_figure(ONE_COLUMN if ncols == 1 else TWO_COLUMN, 2.9 * nrows,
                                        ncols=ncols, nrows=nrows, sharey=True)
    for ax, ((size, ratio, rate), part) in zip(axes.flat, panels):
        keys = sorted(part["strategy"], key=arms.sort_key)
        for i, key in enumerate(keys):
            r = part[part["strategy"] == key].iloc[0]
            style = figure_style.arm_style(key)
            ax.plot([i, i], [r["auc"], r["auc_flipped"]], color=style["color"], linewidth=1)
            for value, std, face in ((r["auc"], r["auc_std"], style["color"]),
                                     (r["auc_flipped"], r["auc_flipped_std"], "white")):
                ax.errorbar([i], [value], yerr=[scipy_t_half(std, r["n"])], marker=style["marker"],
                            color=style["color"], markerfacecolor=face, markersize=4, capsize=2, linestyle="none")
        ax.set_xticks(range(len(keys)), [f"{arms.label(k)} (n = {int(part.loc[part['strategy'] == k, 'n'].iloc[0])})"
                                         for k in keys], rotation=30, ha="right", fontsize=6)
        rate_text = f", shortcut in {100 * rate:g} %" if np.isfinite(rate) else ""
        ax.set_title(f"{size} reviews, {stats.format_ratio(ratio)} positive{rate_text}", fontsize=7)
        ax.set_xlim(-0.5, len(keys) - 0.5)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("mean AUC, 95 % CI")
    fig.legend([Line2D([], [], marker="o", color="grey", linestyle="none"),
                Line2D([], [], marker="o", color="grey", markerfacecolor="white", linestyle="none")],
               ["clean test", "flipped test"], loc="outside upper center", ncols=2, fontsize=7)
    return fig


def shortcut_caption(table: pd.DataFrame) -> str:
    counts = "; ".join(f"{arms.label(k)} {int(n)}" for k, n in
                       table.groupby("strategy")["n"].max().sort_index(key=lambda c: c.map(arms.sort_key)).items())
    return ("A planted shortcut: each model's mean AUC on the clean test set (filled marker) and on the flipped one "
            "(open marker; the other class's planted token in every test text), joined by a line whose length is "
            "the model's reliance on the shortcut; a panel per training size, imbalance ratio and shortcut rate; "
            f"{CI_BARS}. n (bootstraps, at most, per model; per panel in the tick labels): {counts}.")


def scipy_t_half(std: float, n: int, level: float = 0.95) -> float:
    """Half width of the `level` t-interval of a mean of `n` values with standard deviation `std`."""
    from scipy import stats as scipy_stats

    if n < 2 or not np.isfinite(std):
        return 0.0
    return float(scipy_stats.t.ppf(0.5 + level / 2, n - 1) * std / np.sqrt(n))


def _legend(fig: Figure, axes, n: int) -> None:
    """One legend above the figure with every series of every panel, once each."""
    found: dict[str, object] = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            found.setdefault(label, handle)
    if found:
        fig.legend(list(found.values()), list(found), loc="outside upper center", ncols=min(n, 4))


def auc_vs_size_figure(curves: pd.DataFrame) -> Figure:
    """Fig. 4: per strategy the mean AUC per training size (markers, 95 % t-interval over the
    bootstraps) and the lowess curve over every bootstrap's AUC (line); n in the legend.
    `curves`: `stats.smoothed_auc(...)`."""
    fig, axes = figure_style.new_figure(ONE_COLUMN, 2.7)
    ax = axes[0][0]
    keys = sorted(dict.fromkeys(curves["strategy"].astype(str)), key=arms.sort_key)
    labels = _series_labels(curves)
    for key in keys:
        part = curves[curves["strategy"] == key].sort_values("data_size")
        look = figure_style.series_style(key)
        bars = ax.errorbar(part["data_size"], part["mean_auc"], yerr=ci_half(part["std_auc"], part["n"]),
                           linestyle="none", color=look["color"], marker=look["marker"], markersize=3.5)
        bars.lines[0].set_gid(_series_gid(key))
        ax.plot(part["data_size"], part["auc_lowess"], color=look["color"], linestyle=look["linestyle"],
                marker=look["marker"], markersize=3.5, markevery=[], label=labels[key])
    sizes = sorted(curves["data_size"].unique())
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training size (labeled reviews)")
    ax.set_ylabel("AUC: mean, 95 % CI; line: lowess")
    _legend(fig, axes, len(keys))
    return fig


def auc_vs_size_caption(curves: pd.DataFrame, ratio: float) -> str:
    return (f"Test AUC against the training size (log scale) at imbalance ratio {stats.format_ratio(ratio)}: "
            f"markers, the mean over the bootstraps, {CI_BARS}; lines, lowess (frac 0.2) over every bootstrap's "
            f"AUC. n (bootstraps) per point: {points_text(curves, ['data_size'])}.")


def budget_figure(curve: pd.DataFrame) -> Figure:
    """The annotation budget at one size and ratio: each strategy's mean AUC (95 % t-interval over
    the bootstraps) against the share of training reviews that kept their rationale, 100 % being
    the strategy on every rationale; the baseline a dotted line with its interval as a band; the
    bootstrap count in the legend. `curve`: `stats.budget_curve(...)` rows of one size and ratio."""
    fig, axes = figure_style.new_figure(ONE_COLUMN, 2.8)
    ax = axes[0][0]
    size, ratio = curve["data_size"].iloc[0], curve["imbalance_ratio"].iloc[0]
    for (strategy, source), part in curve.groupby(["strategy", "rationale_source"], sort=True):
        key = arms.arm_key(strategy, source)
        look = figure_style.series_style(key)
        if strategy == "baseline":
            row = part.iloc[0]
            half = scipy_t_half(row["std_auc"], int(row["n"]))
            ax.axhline(row["mean_auc"], color=look["color"], linestyle=":", label=f"Baseline ({row['n']} bootstraps)")
            ax.axhspan(row["mean_auc"] - half, row["mean_auc"] + half, color=look["color"], alpha=0.12, linewidth=0)
            continue
        part = part.sort_values("fraction")
        counts = "–".join(str(n) for n in sorted({int(n) for n in part["n"]}))
        bars = ax.errorbar(part["fraction"], part["mean_auc"], yerr=ci_half(part["std_auc"], part["n"]),
                           markersize=3.5, label=f"{arms.label(key)} ({counts} bootstraps)", **look)
        bars.lines[0].set_gid(_series_gid(key))
    ax.set_xlim(0, 1.05)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_xlabel("share of training reviews with a rationale")
    ax.set_ylabel(CI_AXIS)
    ax.set_title(f"{size} training reviews, ratio {stats.format_ratio(ratio)}")
    _legend(fig, axes, 2)
    return fig


def budget_caption(curve: pd.DataFrame) -> str:
    size, ratio = curve["data_size"].iloc[0], curve["imbalance_ratio"].iloc[0]
    counts = "; ".join(f"{arms.label(arms.arm_key(s, src))} at {100 * f:g} %: {n}" for s, src, f, n in
                       curve[["strategy", "rationale_source", "fraction", "n"]].itertuples(index=False) if s != "baseline")
    base = curve[curve["strategy"] == "baseline"]
    base_text = f" The baseline (dotted, band its 95 % CI) over {int(base['n'].iloc[0])} bootstraps." if len(base) else ""
    return (f"The annotation budget at {size} training reviews, imbalance ratio {stats.format_ratio(ratio)}: mean test "
            f"AUC against the share of training reviews that kept their rationale (the rest trained on "
            f"cross-entropy only; 100 % is the strategy on every rationale), each over the bootstraps the budget "
            f"cells ran; {CI_BARS}. n (bootstraps): {counts}.{base_text}")


# ---------------------------------------------------------------------- Fig. 5
LOSS_COLUMNS = ("key", "label", "epoch", "ce_loss", "ce_std", "attention_loss", "attention_std", "runs", "loss_kind")
LOSS_VALUES = LOSS_COLUMNS
LOSS_NAMES = {"cosine": "1 - cos", "kl": "KL", "mse": "MSE"}  # `attention_loss` parameter -> axis title


def history_frame(key: str, label: str, histories: Sequence[Sequence[Mapping]], kind: str = "cosine") -> pd.DataFrame:
    """Per epoch the mean (and std and count, over several runs) of the CE and attention loss of
    the histories given (`metrics["history"]`); LOSS_COLUMNS."""
    rows = [{"epoch": h.get("epoch", i + 1), "ce_loss": h.get("ce_loss"), "attention_loss": h.get("attention_loss")}
            for history in histories for i, h in enumerate(history)]
    if not rows:
        return pd.DataFrame(columns=list(LOSS_COLUMNS))
    frame = pd.DataFrame(rows).astype({"ce_loss": float, "attention_loss": float})
    stats_ = frame.groupby("epoch").agg(ce_loss=("ce_loss", "mean"), ce_std=("ce_loss", "std"),
                                        attention_loss=("attention_loss", "mean"),
                                        attention_std=("attention_loss", "std"),
                                        runs=("ce_loss", "count")).reset_index()
    return stats_.assign(key=key, label=label, loss_kind=kind)[list(LOSS_COLUMNS)]


def grid_losses(folder: Path, summary: pd.DataFrame) -> pd.DataFrame:
    """Fig. 5 of a grid: per (other varied parameters, size, ratio) and strategy or arm, the
    mean loss per epoch over the finished bootstraps, read from the cells' metrics.json."""
    frame = arms.fold(summary)
    frame = frame[frame["status"] == stats.FINISHED]
    outer = [*stats.extra_keys(summary), "data_size", "imbalance_ratio"]
    if "length_group" in frame.columns and frame["length_group"].ne("").any():
        outer.insert(0, "length_group")
    parts = []
    for values, group in frame.groupby([*outer, "strategy"], sort=True, dropna=False):
        histories, kind = [], "cosine"
        for cell in group["cell"]:
            path = folder / str(cell)
            if runs.is_complete(path):
                metrics = runs.read_metrics(path)
                histories.append(metrics.get("history") or [])
                kind = metrics.get("attention_loss", kind)
        part = history_frame(values[-1], f"{arms.label(values[-1])} (mean of {len(histories)})", histories, kind)
        parts.append(part.assign(**dict(zip(outer, values[:-1]))))
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(LOSS_COLUMNS))


def loss_layer_text(key: str) -> str:
    """Which layer's attention a model's attention loss is on: HuMAL-AP's the first layer's
    (`names.FIRST_LAYER_STRATEGIES`, as `models.HumalForSequenceClassification.loss_layer`), every
    other's the last layer's (trained for HuMAL-AL, monitored for the baseline and HuMAL-AN)."""
    return "first layer" if arms.split_key(key)[0] in FIRST_LAYER_STRATEGIES else "last layer"


def loss_figure(losses: pd.DataFrame) -> Figure:
    """Fig. 5: the classification (CE) loss per epoch and, for the models that have one, the
    attention loss with the layer it is on, a line per model (band: the 95 % t-interval of the
    mean over the bootstraps, where there are several). `losses`: LOSS_COLUMNS."""
    attention = losses.dropna(subset=["attention_loss"])
    panels = [("ce_loss", "ce_std", "classification loss (CE)", losses)]
    if not attention.empty:
        kind = str(attention["loss_kind"].iloc[0])
        layers = {}  # layer -> the models whose attention loss is on it
        for key in sorted(dict.fromkeys(attention["key"].astype(str)), key=arms.sort_key):
            layers.setdefault(loss_layer_text(key), []).append(arms.label(key))
        first = layers.get("first layer", [])
        where = (f"{', '.join(first)}: first layer; others: last layer" if len(layers) > 1
                 else f"{next(iter(layers))}'s attention")
        panels.append(("attention_loss", "attention_std",
                       f"attention loss ({LOSS_NAMES.get(kind, kind)})\n{where}", attention))
    fig, axes = figure_style.new_figure(ONE_COLUMN if len(panels) == 1 else TWO_COLUMN, 2.5, ncols=len(panels))
    keys = sorted(dict.fromkeys(losses["key"].astype(str)), key=arms.sort_key)
    for ax, (column, spread, title, data) in zip(axes[0], panels):
        for key in keys:
            part = data[data["key"] == key].sort_values("epoch")
            if part.empty:
                continue
            look = figure_style.series_style(key)
            line = ax.plot(part["epoch"], part[column], label=part["label"].iloc[0], markersize=3, **look)[0]
            line.set_gid(_series_gid(key, column))
            half = ci_half(part[spread].fillna(0), part["runs"].fillna(1))
            if half.any():
                ax.fill_between(part["epoch"], part[column] - half, part[column] + half, color=look["color"],
                                alpha=0.15, linewidth=0)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean loss, 95 % CI" if losses["runs"].max() > 1 else "loss")
        ax.xaxis.get_major_locator().set_params(integer=True)
    _legend(fig, axes, len(keys))
    return fig


def loss_caption(losses: pd.DataFrame) -> str:
    runs_ = losses.groupby("key")["runs"].max()
    many = runs_.max() > 1
    counts = ", ".join(f"{arms.label(k)} {int(runs_[k])}" for k in sorted(runs_.index, key=arms.sort_key))
    kinds = losses.dropna(subset=["attention_loss"])["loss_kind"]
    attention = ""
    if len(kinds):
        kind = str(kinds.iloc[0])
        attention = (f" and the attention loss ({LOSS_NAMES.get(kind, kind)} between the human and the machine "
                     "attention), HuMAL-AP's on the first layer's attention, every other model's on the last "
                     "layer's (trained by HuMAL-AL, only measured for the baseline and HuMAL-AN)")
    spread = ("mean over the bootstraps; bands: the 95 % confidence interval of the mean (t-interval). "
              f"n (bootstraps) per line: {counts}.") if many else "n (runs): 1 per model, so no interval."
    return f"Training loss per epoch: the classification loss (cross-entropy){attention}; {spread}"


# ---------------------------------------------------------------------- a run
def run_figures(folder: Path, out: Path, formats: Sequence[str], reviews: Sequence[str] | None = None) -> Written:
    """Fig. 5, Fig. 6 and review heatmaps of a run and its baseline (see the module's docstring)."""
    files: list[Path] = []
    notes: list[str] = []
    models = publication.run_models(folder)
    losses = pd.concat([history_frame(m.key, m.label, [m.metrics.get("history") or []],
                                      m.metrics.get("attention_loss", "cosine")) for m in models], ignore_index=True)
    if losses.empty:
        notes.append("Fig. 5 skipped: metrics.json holds no loss history.")
    else:
        files += figure_style.save(loss_figure(losses), out, "fig5_loss", formats, loss_caption(losses))
    attention = _attention(folder, models, notes)
    if attention is None:
        return Written(files, notes)
    frame, rows, keys, comparison = attention
    curves = position_bands({name: list(frame[column]) for name, column in rows.items()})
    files += figure_style.save(position_figure(curves, keys), out, "fig6_position", formats, position_caption(curves))
    for review_id in _review_ids(frame, comparison, reviews, notes):
        row = frame[frame["review_id"] == review_id].iloc[0]
        fig = review_heatmap_figure(list(row["words"]), {name: row[column] for name, column in rows.items()}, keys,
                                    title=_review_title(row, models))
        files += figure_style.save(fig, out, f"review_{review_id}", formats, heatmap_caption(row, list(rows)))
    return Written(files, notes)


def _attention(folder: Path, models: list[publication.RunModel], notes: list[str]):
    """(reviews, {row name: column}, {row name: colour key}, the Comparison or None) of the run's
    attention (`compare.Comparison.reviews` columns), or None with a note."""
    if len(models) == 2:
        comparison = publication.comparison(folder)
        if comparison is not None:
            rows = {"human": "human", models[0].label: "baseline", models[1].label: "humal"}
            keys = {"human": "human", models[0].label: models[0].key, models[1].label: models[1].key}
            return comparison.reviews, rows, keys, comparison
    model = models[-1]
    if model.records is None:
        notes.append(f"Fig. 6 and review heatmaps skipped: the run has no {runs.ATTENTION_FILE} "
                     "(the per-review human and machine attention they are drawn from).")
        return None
    if len(models) == 2:
        notes.append(f"Fig. 6 and heatmaps show the run only: its baseline/ has no {runs.ATTENTION_FILE}.")
    frame = pd.DataFrame({
        "review_id": [str(r["review_id"]) for r in model.records],
        "label": [r.get("label") for r in model.records],
        "words": [list(r["words"]) for r in model.records],
        "human": [r["human"] for r in model.records],
        "humal": [r["machine"] for r in model.records],
        "humal_prob": [r.get("prob") for r in model.records],
    })
    return frame, {"human": "human", model.label: "humal"}, {"human": "human", model.label: model.key}, None


def _review_ids(frame: pd.DataFrame, comparison, reviews: Sequence[str] | None, notes: list[str]) -> list[str]:
    """The reviews asked for that are in the test set (a note for the others); without any
    asked for, `EXAMPLE_REVIEWS` examples (`compare.example_reviews` for a pair)."""
    ids = list(frame["review_id"])
    if not reviews:
        if comparison is not None:
            from humal_nb.analyses import compare

            picked = list(compare.example_reviews(comparison, EXAMPLE_REVIEWS)["review_id"])
        else:
            picked = ids[:EXAMPLE_REVIEWS]
        notes.append(f"review heatmaps: no --reviews given, drew {', '.join(picked)} "
                     "(examples; pass --reviews ID,ID for others).")
        return picked
    missing = [r for r in reviews if str(r) not in ids]
    if missing:
        notes.append(f"review heatmaps skipped for {', '.join(map(str, missing))}: not in the run's test set "
                     f"(e.g. {', '.join(ids[:3])}).")
    return [str(r) for r in reviews if str(r) in ids]


def _review_title(row: pd.Series, models: list[publication.RunModel]) -> str:
    probs = []
    if len(models) == 2 and "baseline_prob" in row.index:
        probs.append(f"{models[0].label} P(1) = {row['baseline_prob']:.2f}")
    if row.get("humal_prob") is not None:
        probs.append(f"{models[-1].label} P(1) = {row['humal_prob']:.2f}")
    return f"review {row['review_id']}, label {row['label']}" + ("; " + ", ".join(probs) if probs else "")


#: resamples of the test reviews for Fig. 6's bands (a percentile bootstrap, seeded: the same files each time)
POSITION_RESAMPLES = 1000


def position_bands(named: Mapping[str, Sequence[Sequence[float]]], n_bins: int = 10,
                   resamples: int = POSITION_RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """`analysis.position_curves(named)` with, per source, the 95 % percentile bootstrap interval of
    each bin's mean over the texts (`low`, `high`; the texts resampled with replacement) and `texts`,
    how many texts the curve is over (all-zero ones left out, as the curve leaves them)."""
    curves = analysis.position_curves(named, n_bins)
    rng = np.random.default_rng(seed)
    parts = []
    for source, vectors in named.items():
        sums, counts = [], []
        for values in vectors:
            values = np.asarray(values, dtype=float)
            if values.size == 0 or values.sum() <= 0:
                continue
            bins = analysis.position_bins(values.size, n_bins)
            sums.append(np.bincount(bins, weights=values / values.sum() * values.size, minlength=n_bins))
            counts.append(np.bincount(bins, minlength=n_bins))
        part = curves[curves["source"] == source].copy()
        if sums:
            weights = rng.multinomial(len(sums), np.full(len(sums), 1 / len(sums)), size=resamples)
            with np.errstate(invalid="ignore", divide="ignore"):
                boot = (weights @ np.array(sums)) / (weights @ np.array(counts))
            with warnings.catch_warnings():  # a bin no text reaches: NaN, as the curve has it
                warnings.simplefilter("ignore", RuntimeWarning)
                part["low"], part["high"] = np.nanpercentile(boot, 2.5, axis=0), np.nanpercentile(boot, 97.5, axis=0)
        else:
            part["low"], part["high"] = np.nan, np.nan
        parts.append(part.assign(texts=len(sums)))
    return pd.concat(parts, ignore_index=True) if parts else curves.assign(low=[], high=[], texts=[])


def position_figure(curves: pd.DataFrame, keys: Mapping[str, str]) -> Figure:
    """Fig. 6: mean attention by relative position (1 = uniform), a line per source with its 95 %
    bootstrap band over the test reviews (where `curves` has `low` and `high`: `position_bands`)
    and the number of reviews in the legend. `keys`: source name -> colour key (`series_style`)."""
    fig, axes = figure_style.new_figure(ONE_COLUMN, 2.7)
    ax = axes[0][0]
    for source, part in curves.groupby("source", sort=False):
        look = figure_style.series_style(keys.get(source, source))
        label = f"{source} ({int(part['texts'].iloc[0])} reviews)" if "texts" in part.columns else source
        line = ax.plot(part["position"], part["attention"], label=label, markersize=3, **look)[0]
        line.set_gid(_series_gid(keys.get(source, source), "position"))
        if {"low", "high"} <= set(part.columns) and part["low"].notna().any():
            ax.fill_between(part["position"], part["low"], part["high"], color=look["color"], alpha=0.15, linewidth=0)
    ax.axhline(1.0, color="0.5", linewidth=0.6, linestyle=":")
    ax.set_xlim(0, 1)
    ax.set_xlabel("relative position in the review")
    ax.set_ylabel("attention (1 = uniform), 95 % CI")
    _legend(fig, axes, len(keys))
    return fig


def position_caption(curves: pd.DataFrame) -> str:
    texts = curves.groupby("source", sort=False)["texts"].first()
    counts = ", ".join(f"{source} {int(n)}" for source, n in texts.items())
    return ("Attention by relative position in the review (10 equal bins; each review's attention scaled so that "
            "uniform attention reads 1), mean over the test reviews' words, a line per source; bands: the 95 % "
            f"percentile bootstrap interval over the reviews ({POSITION_RESAMPLES} resamples). n (reviews): {counts}.")


# ---------------------------------------------------------------------- review heatmaps
LINE_CHARS = 100  # characters of review text per line
LABEL_CHARS = 13  # characters left of the text for the row names
ROW_IN, GAP_IN, TOP_IN, BOTTOM_IN = 0.15, 0.08, 0.28, 0.42  # inches


def _lines(words: Sequence[str]) -> list[list[tuple[int, float]]]:
    """Words wrapped into lines of LINE_CHARS: per line, (word index, x start in characters)."""
    lines: list[list[tuple[int, float]]] = [[]]
    x = 0.0
    for i, word in enumerate(words):
        width = len(str(word)) + 1
        if x + width > LINE_CHARS and lines[-1]:
            lines.append([])
            x = 0.0
        lines[-1].append((i, x))
        x += width
    return lines


#: the heatmaps' colour rule, in the colour bar and the caption
ROW_SCALE = "each row scaled to its maximum"


def heatmap_caption(row: pd.Series, names: Sequence[str]) -> str:
    return (f"Test review {row['review_id']} (label {row['label']}): each word coloured by its attention, a row per "
            f"source ({', '.join(names)}); {ROW_SCALE} (white 0, darkest the row's largest word attention), so "
            "the rows show where each source attends, not how sharply.")


def review_heatmap_figure(words: Sequence[str], rows: Mapping[str, Sequence[float]],
                          keys: Mapping[str, str] | None = None, title: str = "") -> Figure:
    """One review's words coloured by each attention row (e.g. human, baseline, HuMAL), the
    lines wrapped with one sub-row per attention; each row scaled to its own maximum (`ROW_SCALE`:
    a model's attention, far flatter than people's, stays readable beside it), `markup`'s colour
    rule, drawn as vector boxes and text. `keys`: row name -> colour key of the row's name."""
    arrays = {name: np.asarray(v, dtype=float) for name, v in rows.items()}
    for name, arr in arrays.items():
        if arr.shape != (len(words),):
            raise ValueError(f"row {name!r} has {arr.size} values for {len(words)} words.")
    arrays = {name: arr / markup.heat_top([arr]) for name, arr in arrays.items()}  # each row's maximum is 1
    top = 1.0
    norm, cmap = Normalize(0, top), markup.heat_colormap()
    lines = _lines(words)
    block = len(arrays) * ROW_IN + GAP_IN
    body = len(lines) * block - GAP_IN
    height = body + TOP_IN + BOTTOM_IN
    fig = Figure(figsize=(TWO_COLUMN, height))
    ax = fig.add_axes((0.0, BOTTOM_IN / height, 1.0, body / height))
    total = LABEL_CHARS + LINE_CHARS
    unit_pt = TWO_COLUMN * 72 / total
    fontsize = 0.95 * unit_pt / 0.6  # a sans glyph is at most ~0.6 em wide on average
    for n, line in enumerate(lines):
        for r, (name, arr) in enumerate(arrays.items()):
            y = n * block + r * ROW_IN
            ax.text(LABEL_CHARS - 1, y + ROW_IN / 2, name, ha="right", va="center", fontsize=fontsize * 0.9,
                    color=figure_style.STRATEGY_COLORS.get(arms.split_key((keys or {}).get(name, ""))[0], "black"))
            for i, x in line:
                value = arr[i] if np.isfinite(arr[i]) else 0.0
                ax.add_patch(Rectangle((LABEL_CHARS + x, y + 0.01), len(str(words[i])) + 0.8, ROW_IN - 0.02,
                                       facecolor=cmap(norm(value)), edgecolor="none"))
                ax.text(LABEL_CHARS + x + 0.4, y + ROW_IN / 2, str(words[i]), ha="left", va="center",
                        fontsize=fontsize, color=markup.heat_text_color(value, top))
    ax.set_xlim(0, total)
    ax.set_ylim(body, 0)
    ax.axis("off")
    if title:
        fig.text(0.005, 1 - 0.06 / height, title, ha="left", va="top", fontsize=8)
    _colorbar(fig, norm, cmap, height)
    return fig


def _colorbar(fig: Figure, norm: Normalize, cmap, height: float) -> None:
    """A horizontal colour bar under the text; 32 steps, so matplotlib keeps it vector (it
    rasterizes a bar of 50 or more colours)."""
    from matplotlib.cm import ScalarMappable

    cax = fig.add_axes((0.62, 0.1 / height, 0.36, 0.08 / height))
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal",
                       boundaries=np.linspace(norm.vmin, norm.vmax, 33))
    from matplotlib.ticker import MaxNLocator

    ticks = [t for t in MaxNLocator(5).tick_values(norm.vmin, norm.vmax) if norm.vmin <= t <= norm.vmax]
    bar.set_ticks(ticks, labels=[f"{t:.3g}" for t in ticks])
    bar.set_label(f"word attention, {ROW_SCALE}", fontsize=7)
    bar.ax.tick_params(labelsize=6)
    bar.outline.set_linewidth(0.4)


__all__ = [
    "auc_vs_ratio_figure",
    "auc_vs_size_figure",
    "budget_figure",
    "grid_figures",
    "history_frame",
    "loss_figure",
    "position_figure",
    "review_heatmap_figure",
    "run_figures",
    "write_figures",
]
