"""The paper's figures as publication files (`humal-nb figures DIR`): vector PDF and SVG, 300-dpi PNG.

`write_figures(folder)` writes every figure the folder can give:

- a **grid** (`summary.csv`): Fig. 3, mean AUC (+- std over bootstraps) against the imbalance
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
Looks (palette, sizes, fonts, formats) live in `humal_nb.figure_style`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from humal_nb import analysis, arms, controls, figure_style, markup, publication, readers, report, runs, stats
from humal_nb.figure_style import ONE_COLUMN, TWO_COLUMN, line_style
from humal_nb.publication import Written

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
            files += figure_style.save(auc_vs_ratio_figure(group), out, name, formats)
    ratios = report.sizes_per_ratio(whole)
    if not ratios:
        sizes = sorted(whole.loc[whole["status"] == stats.FINISHED, "data_size"].unique())
        notes.append("Fig. 4 skipped: no imbalance ratio has finished runs at three or more training sizes "
                     f"(lowess needs three; this grid has sizes {', '.join(map(str, sizes)) or 'none'}).")
    for ratio in ratios:
        keys = tuple(sorted(dict.fromkeys(arms.fold(whole)["strategy"].astype(str)), key=arms.sort_key))
        curves = stats.smoothed_auc(whole, ratio, strategies=keys)
        files += figure_style.save(auc_vs_size_figure(curves), out, f"fig4_auc_vs_size_r{ratio:g}", formats)
    budget = stats.budget_curve(whole)
    for (size, ratio), curve in budget.groupby(["data_size", "imbalance_ratio"], sort=True):
        files += figure_style.save(budget_figure(curve), out, f"fig_budget_n{size}_r{ratio:g}", formats)
    if "auc_flipped" in summary.columns and summary["auc_flipped"].notna().any():
        from humal_nb import worth

        files += figure_style.save(shortcut_figure(worth.shortcut_table(summary)), out, "fig_shortcut", formats)
    if paired_with is None:
        losses = grid_losses(folder, summary)
    else:  # each record's cells from its own folder: the main record's, then the arms
        losses = pd.concat([grid_losses(paired_with, report.read_summary(paired_with)),
                            grid_losses(folder, arm_rows)], ignore_index=True)
    if losses.empty:
        notes.append("Fig. 5 skipped: no finished cell folder holds a metrics.json with a loss history.")
    for name, group in _figure_groups(losses, [*LOSS_COLUMNS], "fig5_loss"):
        files += figure_style.save(loss_figure(group), out, name, formats)
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


def auc_vs_ratio_figure(long: pd.DataFrame) -> Figure:
    """Fig. 3: mean AUC (+- std over bootstraps) against the imbalance ratio, a panel per
    training size, a line per strategy or arm. `long`: `stats.auc_table(...).long` rows."""
    sizes = sorted(long["data_size"].unique())
    ratios = sorted(long["imbalance_ratio"].unique())
    keys = sorted(dict.fromkeys(long["strategy"].astype(str)), key=arms.sort_key)
    ncols = min(4, len(sizes))
    nrows = -(-len(sizes) // ncols)
    fig, axes = figure_style.new_figure(ONE_COLUMN if ncols == 1 else TWO_COLUMN, 2.1 * nrows + 0.4,
                                        ncols=ncols, nrows=nrows, sharey=True)
    for i, size in enumerate(sizes):
        ax = axes[i // ncols][i % ncols]
        panel = long[long["data_size"] == size]
        for j, key in enumerate(keys):
            part = panel[panel["strategy"] == key].sort_values("imbalance_ratio")
            if part.empty:
                continue
            x = np.array([ratios.index(r) for r in part["imbalance_ratio"]]) + 0.08 * (j - (len(keys) - 1) / 2)
            ax.errorbar(x, part["mean_auc"], yerr=part["std_auc"].fillna(0), label=arms.label(key),
                        markersize=3.5, **line_style(key))
        _ratio_axis(ax, ratios)
        ax.set_title(f"n = {size}")
        ax.set_xlabel("imbalance ratio")
    for ax in axes[:, 0]:
        ax.set_ylabel("mean AUC")
    for ax in axes.flat[len(sizes):]:
        ax.set_visible(False)
    _legend(fig, axes[0][0], len(keys))
    return fig


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


def scipy_t_half(std: float, n: int, level: float = 0.95) -> float:
    """Half width of the `level` t-interval of a mean of `n` values with standard deviation `std`."""
    from scipy import stats as scipy_stats

    if n < 2 or not np.isfinite(std):
        return 0.0
    return float(scipy_stats.t.ppf(0.5 + level / 2, n - 1) * std / np.sqrt(n))


def _legend(fig: Figure, ax, n: int) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside upper center", ncols=min(n, 4))


def auc_vs_size_figure(curves: pd.DataFrame) -> Figure:
    """Fig. 4: per strategy the mean AUC per training size (markers, +- std) and the lowess
    curve over every bootstrap's AUC (line). `curves`: `stats.smoothed_auc(...)`."""
    fig, axes = figure_style.new_figure(ONE_COLUMN, 2.6)
    ax = axes[0][0]
    keys = sorted(dict.fromkeys(curves["strategy"].astype(str)), key=arms.sort_key)
    for key in keys:
        part = curves[curves["strategy"] == key].sort_values("data_size")
        look = line_style(key)
        ax.errorbar(part["data_size"], part["mean_auc"], yerr=part["std_auc"].fillna(0), linestyle="none",
                    color=look["color"], marker=look["marker"], markersize=3.5)
        ax.plot(part["data_size"], part["auc_lowess"], color=look["color"], linestyle=look["linestyle"],
                label=arms.label(key))
    sizes = sorted(curves["data_size"].unique())
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training size (labeled reviews)")
    ax.set_ylabel("AUC (lowess, frac 0.2)")
    _legend(fig, ax, len(keys))
    return fig


#: the budget figure's line for a strategy on every rationale, per rationale source (the baseline's is dotted)
BUDGET_RULES = {"human": "--", "random": "-.", "uniform": (0, (3, 1, 1, 1, 1, 1))}


def budget_figure(curve: pd.DataFrame) -> Figure:
    """The annotation budget at one size and ratio: each strategy's mean AUC (+- std over
    bootstraps) against the share of training reviews that kept their rationale, with the
    baseline (dotted) and the strategy on every rationale (dashed) as lines; n in the legend.
    `curve`: `stats.budget_curve(...)` rows of one size and ratio."""
    fig, axes = figure_style.new_figure(ONE_COLUMN, 2.6)
    ax = axes[0][0]
    size, ratio = curve["data_size"].iloc[0], curve["imbalance_ratio"].iloc[0]
    for (strategy, source), part in curve.groupby(["strategy", "rationale_source"], sort=True):
        key = arms.arm_key(strategy, source)
        look = line_style(key)
        if strategy == "baseline":
            row = part.iloc[0]
            ax.axhline(row["mean_auc"], color=look["color"], linestyle=":", label=f"Baseline (n = {row['n']})")
            continue
        part = part.sort_values("fraction")
        full = part[part["fraction"] == 1.0]
        if len(full):  # thin, a dash pattern per rationale source
            ax.axhline(full["mean_auc"].iloc[0], color=look["color"], linewidth=0.8, alpha=0.8,
                       linestyle=BUDGET_RULES.get(source, (0, (2, 2))),
                       label=f"{arms.label(key)}, every rationale (n = {full['n'].iloc[0]})")
        shares = part[part["fraction"] < 1.0]
        counts = ", ".join(str(n) for n in dict.fromkeys(shares["n"]))
        ax.errorbar(part["fraction"], part["mean_auc"], yerr=part["std_auc"].fillna(0), color=look["color"],
                    marker=look["marker"], linestyle=look["linestyle"], markersize=3.5,
                    label=f"{arms.label(key)} (n = {counts})")
    ax.set_xlim(0, 1.05)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_xlabel("share of training reviews with a rationale")
    ax.set_ylabel("mean AUC")
    ax.set_title(f"n = {size}, ratio {stats.format_ratio(ratio)}")
    _legend(fig, ax, 2)
    return fig


# ---------------------------------------------------------------------- Fig. 5
LOSS_COLUMNS = ("key", "label", "epoch", "ce_loss", "ce_std", "attention_loss", "attention_std", "loss_kind")
LOSS_VALUES = LOSS_COLUMNS
LOSS_NAMES = {"cosine": "1 - cos", "kl": "KL", "mse": "MSE"}  # `attention_loss` parameter -> axis title


def history_frame(key: str, label: str, histories: Sequence[Sequence[Mapping]], kind: str = "cosine") -> pd.DataFrame:
    """Per epoch the mean (and std, over several runs) of the CE and attention loss of the
    histories given (`metrics["history"]`); LOSS_COLUMNS."""
    rows = [{"epoch": h.get("epoch", i + 1), "ce_loss": h.get("ce_loss"), "attention_loss": h.get("attention_loss")}
            for history in histories for i, h in enumerate(history)]
    if not rows:
        return pd.DataFrame(columns=list(LOSS_COLUMNS))
    frame = pd.DataFrame(rows).astype({"ce_loss": float, "attention_loss": float})
    stats_ = frame.groupby("epoch").agg(ce_loss=("ce_loss", "mean"), ce_std=("ce_loss", "std"),
                                        attention_loss=("attention_loss", "mean"),
                                        attention_std=("attention_loss", "std")).reset_index()
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


def loss_figure(losses: pd.DataFrame) -> Figure:
    """Fig. 5: the classification (CE) loss per epoch and, for the strategies that have one, the
    attention loss, a line per model (band: +- std over bootstraps). `losses`: LOSS_COLUMNS."""
    attention = losses.dropna(subset=["attention_loss"])
    panels = [("ce_loss", "ce_std", "classification loss (CE)", losses)]
    if not attention.empty:
        kind = str(attention["loss_kind"].iloc[0])
        panels.append(("attention_loss", "attention_std", f"attention loss ({LOSS_NAMES.get(kind, kind)})", attention))
    fig, axes = figure_style.new_figure(ONE_COLUMN if len(panels) == 1 else TWO_COLUMN, 2.3, ncols=len(panels))
    keys = sorted(dict.fromkeys(losses["key"].astype(str)), key=arms.sort_key)
    for ax, (column, spread, title, data) in zip(axes[0], panels):
        for key in keys:
            part = data[data["key"] == key].sort_values("epoch")
            if part.empty:
                continue
            look = line_style(key)
            ax.plot(part["epoch"], part[column], label=part["label"].iloc[0], markersize=3, **look)
            band = part[spread].fillna(0).to_numpy()
            if band.any():
                ax.fill_between(part["epoch"], part[column] - band, part[column] + band, color=look["color"],
                                alpha=0.15, linewidth=0)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean loss")
        ax.xaxis.get_major_locator().set_params(integer=True)
    _legend(fig, axes[0][0], len(keys))
    return fig


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
        files += figure_style.save(loss_figure(losses), out, "fig5_loss", formats)
    attention = _attention(folder, models, notes)
    if attention is None:
        return Written(files, notes)
    frame, rows, keys, comparison = attention
    curves = analysis.position_curves({name: list(frame[column]) for name, column in rows.items()})
    files += figure_style.save(position_figure(curves, keys), out, "fig6_position", formats)
    for review_id in _review_ids(frame, comparison, reviews, notes):
        row = frame[frame["review_id"] == review_id].iloc[0]
        fig = review_heatmap_figure(list(row["words"]), {name: row[column] for name, column in rows.items()}, keys,
                                    title=_review_title(row, models))
        files += figure_style.save(fig, out, f"review_{review_id}", formats)
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
            from humal_nb import compare

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


def position_figure(curves: pd.DataFrame, keys: Mapping[str, str]) -> Figure:
    """Fig. 6: mean attention by relative position (1 = uniform), a line per source.
    `curves`: `analysis.position_curves`; `keys`: source name -> colour key (`line_style`)."""
    fig, axes = figure_style.new_figure(ONE_COLUMN, 2.5)
    ax = axes[0][0]
    for source, part in curves.groupby("source", sort=False):
        ax.plot(part["position"], part["attention"], label=source, markersize=3, **line_style(keys.get(source, source)))
    ax.axhline(1.0, color="0.5", linewidth=0.6, linestyle=":")
    ax.set_xlim(0, 1)
    ax.set_xlabel("relative position in the review")
    ax.set_ylabel("attention (1 = uniform)")
    _legend(fig, ax, len(keys))
    return fig


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


def review_heatmap_figure(words: Sequence[str], rows: Mapping[str, Sequence[float]],
                          keys: Mapping[str, str] | None = None, title: str = "") -> Figure:
    """One review's words coloured by each attention row (e.g. human, baseline, HuMAL), the
    lines wrapped with one sub-row per attention; one shared colour scale (`markup`'s heatmap rule),
    drawn as vector boxes and text. `keys`: row name -> colour key of the row's name."""
    arrays = {name: np.asarray(v, dtype=float) for name, v in rows.items()}
    for name, arr in arrays.items():
        if arr.shape != (len(words),):
            raise ValueError(f"row {name!r} has {arr.size} values for {len(words)} words.")
    top = markup.heat_top(arrays.values())
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
    bar.set_label("word attention (share of the review)", fontsize=7)
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
