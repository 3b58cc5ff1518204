"""Figures of a run and of a grid: plain data in (lists, DataFrames), a figure out.

- `loss_curves`: per-epoch classification vs attention loss (paper Fig. 5).
- `auc_vs_ratio`: mean AUC against the imbalance ratio, one panel per size (Fig. 3).
- `auc_vs_size`: AUC against training size with the lowess curve (Fig. 4).
- `review_heatmap_html`: one review's words coloured by human and machine attention.

Plotly figures are shown through the `plotly_mimetype` renderer (`use_notebook_renderer`),
so an executed notebook holds each figure's JSON only; `humal_nb.experiments.notebooks.export_html`
turns them into HTML with plotly.js inlined once, so the report renders offline.
Text that comes from a data set is always HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from humal_nb.config import arms
from humal_nb.core import markup
from humal_nb.core.names import STRATEGY_LABELS
from humal_nb.experiments.notebooks import PLOTLY_RENDERER
from humal_nb.measures.stats import format_ratio

COLORS = {
    "baseline": "#636efa",
    "al": "#ef553b",
    "an": "#00cc96",
    "ap": "#ab63fa",
    "human": "#ff7f0e",
}
RENDERER = PLOTLY_RENDERER


def use_notebook_renderer() -> None:
    """Show figures as plotly JSON in notebooks (JupyterLab renders it; export inlines plotly.js)."""
    import plotly.io as pio

    pio.renderers.default = RENDERER


def _label(strategy: str) -> str:
    return arms.label(strategy)


def _color(strategy: str) -> str | None:
    """A strategy's colour; its control arms and budgets share it (drawn dashed)."""
    return COLORS.get(arms.split_key(strategy)[0])


def _first(key):
    return key[0] if isinstance(key, tuple) else key


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=markup.escape(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, xaxis_visible=False, yaxis_visible=False, height=250)
    return fig


# ---------------------------------------------------------------------- one run
def loss_curves(
    history: Sequence[Mapping[str, float | None]],
    baseline_history: Sequence[Mapping[str, float | None]] | None = None,
    strategy: str = "al",
) -> go.Figure:
    """Per-epoch loss decomposition (paper Fig. 5).

    `history`: the run's `metrics["history"]`, one mapping per epoch with `ce_loss` and
    `attention_loss` (None for the baseline and AN); `baseline_history`: the baseline's,
    drawn beside for comparison. Left panel: classification (cross-entropy) loss;
    right panel: attention loss.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("classification loss (CE)", "attention loss"))
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    fig.add_trace(
        go.Scatter(x=epochs, y=[h["ce_loss"] for h in history], mode="lines+markers", name=f"{_label(strategy)} CE",
                   line_color=COLORS.get(strategy)),
        row=1, col=1,
    )
    if baseline_history:
        base_epochs = [h.get("epoch", i + 1) for i, h in enumerate(baseline_history)]
        fig.add_trace(
            go.Scatter(x=base_epochs, y=[h["ce_loss"] for h in baseline_history], mode="lines+markers",
                       name="Baseline CE", line=dict(color=COLORS["baseline"], dash="dash")),
            row=1, col=1,
        )
    attention = [h.get("attention_loss") for h in history]
    if any(v is not None for v in attention):
        fig.add_trace(
            go.Scatter(x=epochs, y=attention, mode="lines+markers", name=f"{_label(strategy)} attention loss",
                       line_color=COLORS["human"]),
            row=1, col=2,
        )
    else:
        fig.add_annotation(text="no attention loss for this strategy", showarrow=False,
                           xref="x2 domain", yref="y2 domain", x=0.5, y=0.5)
    fig.update_xaxes(title_text="epoch", dtick=1)
    fig.update_yaxes(title_text="mean loss", row=1, col=1)
    fig.update_layout(title="Loss per epoch (paper Fig. 5)", height=380, legend_orientation="h", legend_y=-0.25)
    return fig


def review_heatmap_html(
    words: Sequence[str],
    rows: Mapping[str, Sequence[float]],
    title: str = "",
) -> str:
    """One review as static HTML: a line of its words per attention vector.

    `words`: the review's words (`text.split()`); `rows`: name -> word attention (one value
    per word), e.g. {"human": ..., "Baseline": ..., "HuMAL-AL": ...}. Every row shares one
    colour scale, as the explorer's interactive heatmap: the largest value of all rows is the
    darkest blue; hovering shows the value. Words, names and title are HTML-escaped, so a
    review that contains markup renders as text.
    """
    arrays = {name: np.asarray(v, dtype=float) for name, v in rows.items()}
    for name, arr in arrays.items():
        if arr.shape != (len(words),):
            raise ValueError(f"row {name!r} has {arr.size} values for {len(words)} words.")
    top = markup.heat_top(arrays.values())
    parts = ['<div class="humal-heatmap" style="font-family:sans-serif;font-size:13px;margin:0.8em 0;">']
    if title:
        parts.append(f'<div style="font-weight:bold;margin-bottom:0.3em;">{markup.escape(title)}</div>')
    for name, arr in arrays.items():
        spans = []
        for word, value in zip(words, arr):
            spans.append(
                f'<span title="{value:.4f}" style="background:{markup.heat_color(value, top)};'
                f'color:{markup.heat_text_color(value, top)};padding:1px 2px;border-radius:2px;">'
                f"{markup.escape(word)}</span>"
            )
        parts.append(
            '<div style="margin:0.2em 0;line-height:1.8;">'
            f'<span style="display:inline-block;min-width:8em;font-weight:bold;">{markup.escape(name)}</span>'
            + " ".join(spans) + "</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def review_examples(
    records: Sequence[Mapping],
    baseline_records: Sequence[Mapping] | None = None,
    n: int = 3,
    strategy: str = "al",
) -> list[str]:
    """Heatmaps (`review_heatmap_html`) of the first `n` test reviews of a run.

    `records`: the run's per-review records (`attention.json`'s `reviews`: `review_id`,
    `label`, `prob`, `words`, `human`, `machine`); `baseline_records`: the baseline's on
    the same test set, matched by `review_id`, shown as a third line.
    """
    baseline_by_id = {r["review_id"]: r for r in baseline_records or []}
    blocks = []
    for record in list(records)[:n]:
        rows = {"human": record["human"], _label(strategy): record["machine"]}
        base = baseline_by_id.get(record["review_id"])
        title = f"review {record['review_id']}: label {record['label']}, {_label(strategy)} P(1) = {record['prob']:.2f}"
        if base is not None and strategy != "baseline":
            rows[_label("baseline")] = base["machine"]
            title += f", Baseline P(1) = {base['prob']:.2f}"
        blocks.append(review_heatmap_html(record["words"], rows, title=title))
    return blocks


# ---------------------------------------------------------------------- a grid
def auc_vs_ratio(long: pd.DataFrame, title: str = "Mean AUC against imbalance ratio (paper Fig. 3)") -> go.Figure:
    """Mean AUC (+- std over bootstraps) against the imbalance ratio, a panel per size.

    `long`: `stats.auc_table(...).long` (columns `data_size`, `imbalance_ratio`, `strategy`,
    `mean_auc`, `std_auc`, and any other key its rows are kept apart by, e.g. `alpha`: a
    line each); rows without a finished run are left out.
    """
    frame = long.dropna(subset=["mean_auc"])
    known = {"data_size", "imbalance_ratio", "strategy", "n", "n_failed", "mean_auc", "std_auc", "statistic",
             "p_value", "n_pairs", "significant", "status"}
    others = [c for c in frame.columns if c not in known]
    if frame.empty:
        return _empty(title, "no finished runs yet")
    sizes = sorted(frame["data_size"].unique())
    cols = min(2, len(sizes))
    nrows = (len(sizes) + cols - 1) // cols
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=[f"data size = {s}" for s in sizes], shared_yaxes=True)
    shown: set[str] = set()
    for i, size in enumerate(sizes):
        row, col = i // cols + 1, i % cols + 1
        panel = frame[frame["data_size"] == size]
        groups = panel.groupby(["strategy", *others], sort=False) if others else panel.groupby("strategy", sort=False)
        for key, part in sorted(groups, key=lambda kv: (arms.sort_key(str(_first(kv[0]))), str(kv[0]))):
            strategy = _first(key)
            name = _label(strategy) + "".join(
                f", {k}={v}" for k, v in zip(others, key[1:] if isinstance(key, tuple) else ()))
            part = part.sort_values("imbalance_ratio")
            fig.add_trace(
                go.Scatter(
                    x=[format_ratio(r) for r in part["imbalance_ratio"]], y=part["mean_auc"],
                    error_y=dict(type="data", array=part["std_auc"].fillna(0), visible=True),
                    mode="lines+markers", name=name, legendgroup=name, showlegend=name not in shown,
                    line_color=_color(strategy) if not others else None,
                    line_dash="dash" if strategy != arms.split_key(strategy)[0] else None,
                    customdata=[format_ratio(r) for r in part["imbalance_ratio"]],
                    hovertemplate="ratio %{customdata}: AUC %{y:.3f}<extra>" + markup.escape(name) + "</extra>",
                ),
                row=row, col=col,
            )
            shown.add(name)
    # the ratios are the grid's levels: one tick each, in order, also when there is only one
    ticks = [format_ratio(r) for r in sorted(frame["imbalance_ratio"].unique())]
    fig.update_xaxes(title_text="imbalance ratio", type="category", categoryorder="array", categoryarray=ticks)
    fig.update_yaxes(title_text="mean AUC", col=1)
    fig.update_layout(title=title, height=320 * nrows, legend_orientation="h", legend_y=-0.15)
    return fig


def auc_vs_size(curves: pd.DataFrame, ratio: float | None = None, title: str | None = None) -> go.Figure:
    """AUC against training size (Fig. 4): per strategy the mean AUC per size (markers,
    +- std) and the lowess curve (line). `curves`: `stats.smoothed_auc(...)`."""
    title = title or "AUC against training size" + (f", imbalance ratio {format_ratio(ratio)}" if ratio else "") + (
        " (paper Fig. 4, lowess frac 0.2)")
    if curves.empty:
        return _empty(title, "no finished runs yet")
    fig = go.Figure()
    for strategy in [s for s in STRATEGY_LABELS if s in set(curves["strategy"])]:
        part = curves[curves["strategy"] == strategy].sort_values("data_size")
        color = COLORS.get(strategy)
        fig.add_trace(go.Scatter(
            x=part["data_size"], y=part["mean_auc"], mode="markers", name=f"{_label(strategy)} mean",
            legendgroup=strategy, marker_color=color,
            error_y=dict(type="data", array=part["std_auc"].fillna(0), visible=True),
        ))
        fig.add_trace(go.Scatter(
            x=part["data_size"], y=part["auc_lowess"], mode="lines", name=f"{_label(strategy)} lowess",
            legendgroup=strategy, line_color=color,
        ))
    fig.update_layout(title=title, xaxis_title="training size (labeled reviews)", yaxis_title="AUC", height=420)
    return fig


def auc_vs_fraction(curve: pd.DataFrame, title: str = "AUC against the share of reviews with a rationale") -> go.Figure:
    """The annotation budget: per size and ratio, each strategy's mean AUC (+- std) against
    the share of training reviews that kept their rationale, with the baseline (no rationale)
    and the strategy on every rationale as horizontal lines. `curve`: `stats.budget_curve`."""
    if curve.empty:
        return _empty(title, "this grid has no rationale_fraction below 1")
    fig = go.Figure()
    for (size, ratio, strategy, source), part in curve.groupby(
            ["data_size", "imbalance_ratio", "strategy", "rationale_source"], sort=True):
        where = f"{size} x {format_ratio(ratio)}"
        if strategy == "baseline":
            fig.add_hline(y=float(part["mean_auc"].iloc[0]), line_dash="dot", line_color=COLORS.get("baseline"),
                          annotation_text=f"Baseline, {where}", annotation_position="bottom right")
            continue
        name = f"{arms.label(arms.arm_key(strategy, source))}, {where}"
        full = part[part["fraction"] == 1.0]
        if len(full):
            fig.add_hline(y=float(full["mean_auc"].iloc[0]), line_dash="dash", line_color=COLORS.get(strategy),
                          annotation_text=f"{name}, every rationale", annotation_position="top right")
        fig.add_trace(go.Scatter(
            x=part["fraction"], y=part["mean_auc"], mode="lines+markers", name=name, line_color=COLORS.get(strategy),
            error_y=dict(type="data", array=part["std_auc"].fillna(0), visible=True),
            customdata=part["n"], hovertemplate="share %{x:.0%}: AUC %{y:.3f} (n = %{customdata})<extra></extra>",
        ))
    fig.update_layout(title=title, xaxis_title="share of training reviews with a rationale", yaxis_title="mean AUC",
                      xaxis_tickformat=".0%", xaxis_range=[0, 1.05], height=420)
    return fig


__all__ = ["auc_vs_fraction", "auc_vs_ratio", "auc_vs_size", "loss_curves", "review_examples", "review_heatmap_html", "use_notebook_renderer"]
