"""Static views of a comparison (paper sec. V-E): plotly figures and HTML strings.

Every function takes plain data (words, lists of floats, DataFrames, a `Comparison`)
and returns a figure or an HTML string; the explorer widget (`humal_nb.explorer.browser`) and the
exported compare report show them.

- `heatmap_figure(words, rows)`: one review's words as aligned heatmap rows (human,
  baseline, HuMAL) on one shared colour scale, the value on hover.
- `position_figure`, `table_html`, `figure_html`, `static_heatmaps_html`: static
  versions for an exported report (no widget, no kernel needed).
- `faithfulness_html`, `plausibility_faithfulness_figure`, `rollout_html`,
  `erasure_html`: ERASER faithfulness (`humal_nb.analyses.faithfulness`), plausibility against
  faithfulness per model, attention rollout's cosine to human (`humal_nb.method.rollout`), and
  one review's prediction with its top words removed.

Text from the data set is escaped everywhere: plotly reads a pseudo-HTML subset in text,
so words are passed HTML-escaped (plotly shows `&lt;` as `<`), and tables and static
heatmaps are escaped HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from humal_nb.analyses import compare
from humal_nb.analyses.compare import Comparison
from humal_nb.core import markup
from humal_nb.core.paths import display_path
from humal_nb.publication import plots

PLOTLY_MIME = "application/vnd.plotly.v1+json"
SOURCE_COLORS = {"human": "#ff7f0e", "baseline": "#636efa", "humal": "#ef553b", "random": "#7f7f7f"}
SOURCE_SYMBOLS = ("star", "circle", "diamond", "x")
# selector values meaning "no filter", "the saved last-layer head mean", "mean of the heads"
ALL, SAVED, MEAN = "all", "saved", "mean"


# ---------------------------------------------------------------------- one review
escape = markup.escape  # text in an element (the one escape: `markup`)


def _heatmap_cells(words: Sequence[str], values: dict[str, np.ndarray], per_line: int) -> dict[str, list]:
    """The heatmap's grid: `per_line` words a line, one row per name and a blank row between
    lines; z (None where blank), cell text, hover text, and the y ticks naming the rows."""
    names, n = list(values), len(words)
    lines = max(1, -(-n // per_line))
    block = len(names) + 1  # a blank row between lines
    total = lines * block - 1
    z: list[list[float | None]] = [[None] * per_line for _ in range(total)]
    text = [[""] * per_line for _ in range(total)]
    hover = [[""] * per_line for _ in range(total)]
    tickvals, ticktext = [], []
    escaped = [escape(w) for w in words]
    for line in range(lines):
        for r, name in enumerate(names):
            y = line * block + r
            tickvals.append(y)
            ticktext.append(escape(name))
            for col in range(min(per_line, n - line * per_line)):
                i = line * per_line + col
                v = values[name][i]
                z[y][col] = float(v) if np.isfinite(v) else None
                text[y][col] = escaped[i]
                hover[y][col] = f"{escape(name)}<br>word {i + 1}: {escaped[i]}<br>attention {v:.4f}"
    return {"z": z, "text": text, "hover": hover, "tickvals": tickvals, "ticktext": ticktext}


def _heatmap_layout(title: str, total: int, per_line: int, tickvals: list, ticktext: list) -> dict[str, Any]:
    """The heatmap's layout: a row height per grid row, row names as y ticks, no x axis."""
    return {
        "title": {"text": escape(title)} if title else None,
        "height": int(60 + (70 if title else 20) + 24 * total),
        "margin": {"l": 10, "r": 10, "t": 60 if title else 20, "b": 10},
        "plot_bgcolor": "white",
        "xaxis": {"visible": False, "range": [-0.5, per_line - 0.5]},
        "yaxis": {"autorange": "reversed", "tickvals": tickvals, "ticktext": ticktext, "showgrid": False,
                  "zeroline": False},
    }


def heatmap_figure(
    words: Sequence[str],
    rows: Mapping[str, Sequence[float]],
    title: str = "",
    words_per_line: int = 12,
    zmax: float | None = None,
) -> go.Figure:
    """One review as heatmap rows that share one colour scale.

    Args:
        words: [n] the review's words.
        rows: {row name: [n] word attention}, e.g. {"human": ..., "Baseline": ..., "HuMAL-AL": ...}.
        title: figure title (escaped).
        words_per_line: long reviews wrap; each line shows every row for the same words.
        zmax: top of the colour scale; default the largest value of all rows.
    Returns:
        a plotly Figure with one Heatmap trace: cell text = the (escaped) word, hover =
        row, word position, word and value; NaN cells (padding, gaps) are blank.
    """
    names = list(rows)
    if not names:
        raise ValueError("heatmap_figure needs at least one row of values.")
    values = {}
    for name in names:
        arr = np.asarray(rows[name], dtype=float)
        if arr.shape != (len(words),):
            raise ValueError(f"row {name!r} has {arr.size} values for {len(words)} words.")
        values[name] = arr
    per_line = max(1, int(words_per_line))
    cells = _heatmap_cells(words, values, per_line)
    total = len(cells["z"])
    top = zmax if zmax is not None else markup.heat_top(values.values())
    z, text, hover, tickvals, ticktext = (cells[k] for k in ("z", "text", "hover", "tickvals", "ticktext"))
    fig = go.Figure(
        go.Heatmap(
            z=z,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            colorscale=markup.heat_colorscale(),
            zmin=0.0,
            zmax=top,
            xgap=1,
            ygap=1,
            colorbar={"title": {"text": "attention"}, "thickness": 12},
        )
    )
    fig.update_layout(**_heatmap_layout(title, total, per_line, tickvals, ticktext))
    return fig


def review_title(comparison: Comparison, row: pd.Series) -> str:
    names = comparison.names
    verdict = {"none": "both right", "baseline": "baseline wrong", "humal": "HuMAL wrong", "both": "both wrong"}
    return (
        f"review {row['review_id']} | label {row['label']} | {row['n_words']} words | "
        f"{names['baseline']} P(1)={row['baseline_prob']:.2f} | {names['humal']} P(1)={row['humal_prob']:.2f} | "
        f"{verdict[row['errors']]}"
    )


# ---------------------------------------------------------------------- summaries
def position_figure(curves: pd.DataFrame, title: str = "Mean attention by relative position (paper Fig. 6)") -> go.Figure:
    """Position curves (`compare.position_table` / `analysis.position_curves`): one line per
    source, y = mean attention relative to uniform (1.0 = every word the same)."""
    fig = go.Figure()
    palette = list(SOURCE_COLORS.values())
    for k, (source, part) in enumerate(curves.groupby("source", sort=False)):
        fig.add_trace(go.Scatter(
            x=part["position"], y=part["attention"], mode="lines+markers", name=escape(source),
            line={"color": palette[k % len(palette)], "dash": "dot" if source == "human" else "solid"},
            hovertemplate="position %{x:.2f}: %{y:.2f} x uniform<extra>" + escape(source) + "</extra>",
        ))
    fig.add_hline(y=1.0, line={"color": "grey", "width": 1, "dash": "dash"})
    fig.update_layout(
        title=escape(title), height=380, xaxis_title="relative position in the review (0 = first word)",
        yaxis_title="attention (1 = uniform)", legend_orientation="h", legend_y=-0.2,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
    )
    return fig


PERCENT_COLUMNS = ("highlight_rate", "rate_std", "rate_iqr")
HEADERS = {
    "source": "attention of",
    "highlight_rate": "highlighted by an annotator",
    "rate_std": "high: mean + 1 std rule",
    "rate_iqr": "high: IQR rule",
    "paper": "paper",
    "model": "model",
    "cosine_mean": "cosine to human (mean)",
    "cosine_std": "std",
    "auprc": "AUPRC",
    "token_f1": "token F1",
    "n_scored": "reviews scored",
    "reading": "attention read as",
    "iou_f1": "IOU-F1",
    "iou_f1_macro": "IOU-F1 (macro)",
    "precision": "span precision",
    "recall": "span recall",
    "percent": "top words",
    "comprehensiveness": "comprehensiveness (AOPC, higher = more faithful)",
    "comprehensiveness_se": "comprehensiveness s.e.",
    "sufficiency": "sufficiency (AOPC, lower = more faithful)",
    "sufficiency_se": "sufficiency s.e.",
    "n_reviews": "reviews",
    "n": "reviews",
    "removed_words": "its top words (removed)",
    "full_prob": "P(1)",
    "removed_prob": "P(1) without them",
    "kept_prob": "P(1) with only them",
    "flips": "prediction flips",
}
#: the faithfulness tables: `model` is the model under test, `source` whose attention ranks the words
FAITH_HEADERS = {**HEADERS, "model": "model under test"}
FAITHFULNESS_NOTE = ("Faithfulness, rollout and the per-review erasure need both runs' saved models "
                     "(model/ folders; train with save_model: true).")


def table_html(
    frame: pd.DataFrame,
    percent: Sequence[str] = PERCENT_COLUMNS,
    digits: int = 3,
    caption: str = "",
    headers: Mapping[str, str] | None = None,
) -> str:
    """A DataFrame as an escaped HTML table: `percent` columns as "12.3 %", other floats
    with `digits` decimals, NaN blank; columns renamed by `headers` (default HEADERS)."""
    shown = frame.copy()
    for column in shown.columns:
        if column in percent:
            shown[column] = [("" if pd.isna(v) else f"{100 * v:.1f} %") for v in frame[column]]
        elif pd.api.types.is_float_dtype(frame[column]):
            shown[column] = [("" if pd.isna(v) else f"{v:.{digits}f}") for v in frame[column]]
    names = HEADERS if headers is None else headers
    shown.columns = [names.get(c, c) for c in shown.columns]
    body = shown.to_html(index=False, escape=True, na_rep="", border=0, classes="humal-table")
    head = (f'<div class="humal-caption" style="font-weight:bold;margin:0.6em 0 0.2em;">{escape(caption)}</div>'
            if caption else "")
    return f'<div class="humal-table-block" style="font-size:13px;">{head}{body}</div>'


def figure_html(fig: go.Figure, include_plotlyjs: bool = False) -> str:
    """A figure as static HTML; `include_plotlyjs=True` inlines plotly.js (do it once per page),
    so the page renders offline."""
    return fig.to_html(include_plotlyjs=include_plotlyjs, full_html=False, config={"responsive": True})


def comparison_header_html(comparison: Comparison) -> str:
    """Which runs are compared, with their test metrics (escaped HTML)."""
    items = []
    for which, name in comparison.names.items():
        m = comparison.metrics.get(which, {})
        facts = [f"{len(comparison)} test reviews"]
        if m:
            facts = [
                f"AUC {m.get('auc', float('nan')):.3f}",
                f"accuracy {m.get('accuracy', float('nan')):.3f}",
                f"{m.get('n_train', '?')} training reviews (ratio {m.get('imbalance_ratio', '?')})",
                f"{m.get('epochs', '?')} epochs",
            ]
        folder = display_path(comparison.run_dir(which))  # relative, never the machine's absolute path
        items.append(f"<li><b>{escape(name)}</b>: {escape(', '.join(facts))} <code>{escape(folder)}</code></li>")
    return f'<ul class="humal-runs" style="font-size:13px;">{"".join(items)}</ul>'


def summary_html(comparison: Comparison, reviews: pd.DataFrame | None = None) -> str:
    """Rates, cosine (Table V) and plausibility tables of the reviews (default all), as HTML."""
    frame = comparison.reviews if reviews is None else reviews
    if frame.empty:
        return "<p><em>No review matches these filters.</em></p>"
    return "".join([
        f'<p style="font-size:13px;">{len(frame)} of {len(comparison)} test reviews.</p>',
        table_html(compare.rates_table(comparison, frame),
                   caption="High-attention rate (share of words; rule: above the review's mean + 1 std, or Tukey's IQR)"),
        table_html(compare.cosine_summary(comparison, frame), caption="Cosine similarity to human attention (Table V)"),
        table_html(compare.plausibility_summary(comparison, frame),
                   caption="Plausibility against the annotators' consensus (AUPRC, token F1)"),
    ])


# ---------------------------------------------------------------------- faithfulness and rollout
def _arithmetic(faith: Any) -> str:
    return "bf16 autocast" if getattr(faith, "precision", "fp32") == "bf16" else "fp32"


def faithfulness_html(comparison: Comparison, faith: Any, reviews: pd.DataFrame | None = None) -> str:
    """The AOPC comprehensiveness/sufficiency table (model under test x attention source)
    and the IOU-F1 table, of the reviews (default all), as escaped HTML."""
    if faith is None:
        return markup.note_html(FAITHFULNESS_NOTE)
    frame = comparison.reviews if reviews is None else reviews
    if frame.empty:
        return "<p><em>No review matches these filters.</em></p>"
    ks = ", ".join(f"{100 * p:g} %" for p in faith.percents)
    table = compare.plausibility_faithfulness(comparison, faith, frame)
    ids = list(frame["review_id"])
    return "".join([
        f'<p style="font-size:13px;">{len(frame)} of {len(comparison)} test reviews; k = {escape(ks)}; '
        f"random words drawn with seed {faith.seed}; the models ran in {escape(_arithmetic(faith))}.</p>",
        table_html(faith.table(ids), headers=FAITH_HEADERS,
                   caption="Faithfulness (ERASER AOPC): the drop in the predicted class's probability without the "
                           "top-k % words (comprehensiveness) and with only them (sufficiency)"),
        table_html(faith.table(ids, target="label"), headers=FAITH_HEADERS,
                   caption="The same drops, of the probability of each review's true label"),
        table_html(table[["source", "iou_f1", "auprc", "token_f1"]].drop_duplicates("source"),
                   caption="Plausibility of each attention source against the annotators' consensus: IOU-F1 "
                           f"(ERASER span match at IOU >= 0.5, top {100 * faith.iou['percent'].iloc[0]:.1f} % words: "
                           "the human highlight rate), AUPRC, token F1"),
    ])


def plausibility_faithfulness_figure(table: pd.DataFrame, title: str = "Plausibility vs faithfulness") -> go.Figure:
    """One panel per model under test (columns) and target (rows: the predicted class, the
    true label; `compare.plausibility_faithfulness`): each attention source at x = its
    plausibility (IOU-F1 to the annotators), y = its comprehensiveness under that model
    (AOPC; bars: 1.96 standard errors); sufficiency on hover."""
    from plotly.subplots import make_subplots

    models, targets = list(dict.fromkeys(table["model"])), list(dict.fromkeys(table["target"]))
    fig = make_subplots(rows=len(targets), cols=len(models), shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=[f"{escape(m)}, toward the {escape(t)}" for t in targets for m in models])
    palette, sources = list(SOURCE_COLORS.values()), list(dict.fromkeys(table["source"]))
    for (i, target), (j, model) in ((a, b) for a in enumerate(targets, 1) for b in enumerate(models, 1)):
        part = table[(table["target"] == target) & (table["model"] == model)]
        for k, source in enumerate(sources):
            for _, r in part[part["source"] == source].iterrows():
                fig.add_trace(_source_point(r, palette[k % len(palette)], SOURCE_SYMBOLS[k % len(SOURCE_SYMBOLS)],
                                            show=(i, j) == (1, 1)), row=i, col=j)
        fig.update_yaxes(title_text="comprehensiveness" if j == 1 else None, row=i, col=j)
        fig.update_xaxes(title_text="IOU-F1 to the annotators" if i == len(targets) else None, row=i, col=j)
    fig.add_hline(y=0.0, line={"color": "grey", "width": 1, "dash": "dash"})
    fig.update_layout(title=escape(title), height=330 * len(targets) + 80, legend_orientation="h",
                      legend_y=-0.12, margin={"l": 60, "r": 20, "t": 80, "b": 40})
    return fig


def _source_point(r: pd.Series, color: str, symbol: str, show: bool) -> go.Scatter:
    source, se = escape(r["source"]), float(r.get("comprehensiveness_se", np.nan))
    return go.Scatter(
        x=[r["iou_f1"]], y=[r["comprehensiveness"]], mode="markers", name=source, legendgroup=source,
        showlegend=show, marker={"size": 12, "color": color, "symbol": symbol},
        error_y={"type": "data", "array": [1.96 * se], "visible": bool(np.isfinite(se))},
        hovertemplate=(f"{source}<br>IOU-F1 %{{x:.3f}}<br>comprehensiveness %{{y:.4f}}"
                       f"<br>sufficiency {r['sufficiency']:.4f}<extra>{escape(r['model'])}</extra>"),
    )


def plausibility_faithfulness_html(comparison: Comparison, faith: Any) -> str:
    """plausibility_faithfulness_figure of all reviews as static HTML (plotly.js not inlined:
    include it once earlier on the page), or a note without the saved models."""
    if faith is None:
        return markup.note_html(FAITHFULNESS_NOTE)
    return figure_html(plausibility_faithfulness_figure(compare.plausibility_faithfulness(comparison, faith)))


def rollout_html(comparison: Comparison, reviews: pd.DataFrame | None = None, progress: bool = False,
                 precision: str = "fp32") -> str:
    """Cosine to human and IOU-F1 of each model's attention read as the saved last layer
    (eq. 1), the first layer and attention rollout (escaped HTML; a note without models).
    `progress`, `precision`: see `compare.rollout_summary`."""
    if not compare.has_models(comparison):
        return markup.note_html(FAITHFULNESS_NOTE)
    return table_html(compare.rollout_summary(comparison, reviews, progress=progress, precision=precision),
                      caption="Cosine similarity to human attention, by way of reading the machine's attention")


def erasure_html(comparison: Comparison, faith: Any, review_id: str, percent: float = 0.2) -> str:
    """One review with its top-k % words removed, per model under test and attention source:
    the removed words, P(1) of the whole review, without them, with only them (escaped HTML)."""
    if faith is None:
        return ""
    try:
        frame = compare.review_erasure(comparison, faith, review_id, percent)
    except KeyError as exc:  # a review or k the faithfulness records do not hold
        return markup.note_html(str(exc.args[0] if exc.args else exc))
    frame["flips"] = ["yes" if v else "" for v in frame["flips"]]
    caption = f"Review {review_id} with its top {100 * percent:g} % words removed (or only those kept)"
    body = table_html(frame, headers=FAITH_HEADERS, digits=3, caption=caption)
    return f'<div class="humal-erasure">{body}</div>'


# ---------------------------------------------------------------------- static examples
def static_heatmaps_html(comparison: Comparison, n: int = 5, faithfulness: Any = None, percent: float = 0.2) -> str:
    """`n` example reviews (`compare.example_reviews`: taken in turn from the error groups)
    as static HTML heatmaps of human, baseline and HuMAL word attention (no script); with
    `faithfulness` (compare.faithfulness) each also shows its prediction with its top
    `percent` words removed (erasure_html)."""
    blocks = [
        '<p style="font-size:13px;">Darker = more of the review\'s attention (each row sums to 1; one '
        "colour scale per review, shared by its rows). Hover a word for its value.</p>"
    ]
    for _, row in compare.example_reviews(comparison, n).iterrows():
        rows = {"human": row["human"], comparison.baseline_name: row["baseline"], comparison.humal_name: row["humal"]}
        blocks.append(plots.review_heatmap_html(row["words"], rows, title=review_title(comparison, row)))
        blocks.append(erasure_html(comparison, faithfulness, row["review_id"], percent))
    return '<div class="humal-examples">' + "".join(blocks) + "</div>"


