"""The attention explorer: one widget to browse a comparison's test reviews (sec. V-E).

`example_browser(comparison)`: pick a review (filtered by label, length group and
prediction error), a layer and a head; the review's human, baseline and HuMAL heatmaps,
position curves, rate, cosine and plausibility tables of the filtered reviews, and
bertviz head/model views of both models on demand. Figures inside the widget are shown
through `Output` widgets holding plotly JSON (JupyterLab's and Voila's plotly renderer
draws them offline); the static pieces come from `humal_nb.publication.views`.
"""

from __future__ import annotations

import json
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from humal_nb.analyses import compare, model_attention
from humal_nb.analyses.compare import Comparison
from humal_nb.explorer import bertviz_views
from humal_nb.publication import views


# ---------------------------------------------------------------------- the explorer widget
def _plotly_output(fig: go.Figure) -> dict:
    """An Output widget's display_data holding a figure as plotly JSON."""
    return {
        "output_type": "display_data",
        "data": {views.PLOTLY_MIME: json.loads(fig.to_json()), "text/plain": "(plotly figure)"},
        "metadata": {},
    }


def _html_output(text: str) -> dict:
    return {"output_type": "display_data", "data": {"text/html": text, "text/plain": "(html)"}, "metadata": {}}


class ExampleBrowser(widgets.VBox):
    """The explorer widget (see `example_browser`). `figure` is the heatmap shown now."""

    def __init__(self, comparison: Comparison, words_per_line: int = 12, faithfulness: Any = None) -> None:
        self.comparison = comparison
        self.words_per_line = words_per_line
        self.faithfulness = faithfulness
        self._updating = False
        shapes = [model_attention.model_shape(comparison.run_dir(w)) for w in ("baseline", "humal")]
        shape = shapes[0] if shapes[0] is not None and shapes[0] == shapes[1] else None
        self._filter_controls(comparison.reviews)
        self._reading_controls(shape, faithfulness)
        self._outputs()
        tabs = widgets.Tab(children=[self.positions, self.tables, self.faith_tables, self._bertviz_tab(shape)])
        for k, title in enumerate(("Position (Fig. 6)", "Rates, cosine", "Faithfulness", "bertviz")):
            tabs.set_title(k, title)
        super().__init__([
            widgets.HBox([self.label, self.length_group, self.errors]),
            widgets.HBox([self.review]),
            widgets.HBox([self.layer, self.head, self.rollout, self.percent]),
            self.info,
            self.heatmap,
            self.erasure,
            tabs,
        ])
        self.add_class("humal-explorer")
        for control in (self.label, self.length_group, self.errors):
            control.observe(self._on_filter, names="value")
        for control in (self.review, self.layer, self.head, self.rollout, self.percent):
            control.observe(self._on_review, names="value")
        self.bertviz_button.on_click(self._on_bertviz)
        self._on_filter()

    # ------------------------------------------------------------------ building the widget
    def _filter_controls(self, frame: pd.DataFrame) -> None:
        """The label, length-group and prediction-error filters, and the review picker."""
        small = {"description_width": "initial"}
        self.label = widgets.Dropdown(
            options=[("all", views.ALL), ("0 (negative)", 0), ("1 (positive)", 1)], value=views.ALL,
            description="label", style=small, layout={"width": "180px"},
        )
        groups = sorted(g for g in frame["length_group"].unique() if g)
        self.length_group = widgets.Dropdown(
            options=[("all", views.ALL)] + [(g, g) for g in groups], value=views.ALL,
            description="length", style=small, layout={"width": "180px"},
        )
        self.errors = widgets.Dropdown(
            options=[(text, key) for key, text in compare.ERROR_FILTERS.items()], value="any",
            description="predictions", style=small, layout={"width": "260px"},
        )
        self.review = widgets.Dropdown(description="review", style=small, layout={"width": "560px"})
        self.review.add_class("humal-review")

    def _reading_controls(self, shape: tuple[int, int] | None, faithfulness: Any) -> None:
        """Layer, head, rollout rows (need saved models of the same shape) and erasure share."""
        small = {"description_width": "initial"}
        layers, heads = shape if shape else (0, 0)
        self.layer = widgets.Dropdown(
            options=[("last, saved (eq. 1)", views.SAVED)] + [(str(i), i) for i in range(layers)], value=views.SAVED,
            description="layer", style=small, layout={"width": "220px"}, disabled=shape is None,
        )
        self.head = widgets.Dropdown(
            options=[("mean of heads", views.MEAN)] + [(str(h), h) for h in range(heads)], value=views.MEAN,
            description="head", style=small, layout={"width": "200px"}, disabled=shape is None,
        )
        self.rollout = widgets.Checkbox(value=False, description="rollout rows", disabled=shape is None,
                                        style=small, layout={"width": "160px"})
        percents = faithfulness.percents if faithfulness is not None else ()
        self.percent = widgets.Dropdown(
            options=[(f"{100 * p:g} %", p) for p in percents] or [("-", 0.0)],
            value=min(percents, key=lambda p: abs(p - 0.2)) if percents else 0.0,
            description="remove top", style=small, layout={"width": "180px"}, disabled=faithfulness is None,
        )

    def _outputs(self) -> None:
        """Where the review's heatmap, its erasure and the filtered reviews' summaries show."""
        self.info = widgets.HTML()
        self.erasure = widgets.HTML()
        self.faith_tables = widgets.HTML()
        self.heatmap = widgets.Output(layout={"width": "100%"})
        self.heatmap.add_class("humal-heatmap-output")
        self.figure: go.Figure = go.Figure()
        self.positions = widgets.Output(layout={"width": "100%"})
        self.position_fig: go.Figure = go.Figure()
        self.tables = widgets.HTML()

    def _bertviz_tab(self, shape: tuple[int, int] | None) -> widgets.VBox:
        """The bertviz tab: head or model view of both models, drawn on demand."""
        self.bertviz_view = widgets.ToggleButtons(options=[("head view", "head"), ("model view", "model")], value="head")
        self.bertviz_button = widgets.Button(description="Show bertviz views",
                                             disabled=shape is None, layout={"width": "200px"})
        self.bertviz_out = {w: widgets.Output(layout={"width": "50%", "overflow": "auto"}) for w in ("baseline", "humal")}
        note = bertviz_views.BERTVIZ_NOTE if shape else "bertviz views need the runs' saved models (model/ folders)."
        return widgets.VBox([
            widgets.HTML(f'<p style="font-size:12px;"><em>{views.escape(note)}</em></p>'),
            widgets.HBox([self.bertviz_view, self.bertviz_button]),
            widgets.HBox(list(self.bertviz_out.values())),
        ])

    # ------------------------------------------------------------------ state
    @property
    def filtered(self) -> pd.DataFrame:
        """The reviews matching the current filters."""
        label = None if self.label.value == views.ALL else self.label.value
        group = None if self.length_group.value == views.ALL else self.length_group.value
        return compare.filter_reviews(self.comparison.reviews, label, group, self.errors.value)

    def _option(self, row: pd.Series) -> tuple[str, str]:
        verdict = {"none": "both right", "baseline": "baseline wrong", "humal": "HuMAL wrong", "both": "both wrong"}
        preview = " ".join(row["words"][:8])
        text = (f"{row['review_id']} | label {row['label']} | {row['n_words']} words | {verdict[row['errors']]} | "
                f"{preview}")
        return text[:140], row["review_id"]

    # ------------------------------------------------------------------ callbacks
    def _on_filter(self, change: Any = None) -> None:
        frame = self.filtered
        options = [self._option(row) for _, row in frame.iterrows()]
        current = self.review.value
        ids = [value for _, value in options]
        self._updating = True  # one heatmap update below, not one per trait change
        try:
            self.review.options = options
            self.review.value = current if current in ids else (ids[0] if ids else None)
        finally:
            self._updating = False
        self._update_summaries(frame)
        self._on_review()

    def _machine_row(self, which: str, words: list[str], saved: list[float]) -> tuple[str, np.ndarray]:
        name = self.comparison.names[which]
        layer = None if self.layer.value == views.SAVED else self.layer.value
        head = None if self.head.value == views.MEAN else self.head.value
        if layer is None and head is None:
            return name, np.asarray(saved, dtype=float)
        values = model_attention.layer_head_attention(self.comparison.run_dir(which), words, -1 if layer is None else layer,
                                               head)
        where = f"layer {'last' if layer is None else layer}, {'mean of heads' if head is None else f'head {head}'}"
        return f"{name} ({where})", values

    def _on_review(self, change: Any = None) -> None:
        if self._updating:
            return
        for out in self.bertviz_out.values():
            out.outputs = ()
        if self.review.value is None:
            self.info.value = "<p><em>No review matches these filters.</em></p>"
            self.erasure.value = ""
            self.figure = go.Figure()
            self.heatmap.outputs = ()
            return
        row = self.comparison.review(self.review.value)
        words = list(row["words"])
        if self.layer.value != views.SAVED or self.head.value != views.MEAN:
            self.info.value = "<p><em>Computing the layer's attention (the first time loads both models)...</em></p>"
        rows: dict[str, np.ndarray] = {"human": np.asarray(row["human"], dtype=float)}
        message = ""
        try:
            for which in ("baseline", "humal"):
                name, values = self._machine_row(which, words, row[which])
                rows[name] = values
            if self.rollout.value:
                for which, name in self.comparison.names.items():
                    rows[f"{name} (rollout)"] = model_attention.rollout_attention(self.comparison.run_dir(which), words)
        except Exception as exc:  # a missing model or an unreadable one: show the saved rows
            message = f"<br><span style='color:#b00;'>{views.escape(exc)}</span>"
            rows = {"human": rows["human"], self.comparison.baseline_name: np.asarray(row["baseline"]),
                    self.comparison.humal_name: np.asarray(row["humal"])}
        self.info.value = f'<div style="font-size:13px;">{views.escape(views.review_title(self.comparison, row))}{message}</div>'
        self.figure = views.heatmap_figure(words, rows, words_per_line=self.words_per_line)
        self.heatmap.outputs = (_plotly_output(self.figure),)
        self.erasure.value = views.erasure_html(self.comparison, self.faithfulness, row["review_id"], self.percent.value)

    def _update_summaries(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            self.position_fig = go.Figure()
            self.positions.outputs = (_html_output("<p><em>No review matches these filters.</em></p>"),)
        else:
            title = f"Mean attention by relative position (paper Fig. 6), {len(frame)} reviews"
            self.position_fig = views.position_figure(compare.position_table(self.comparison, reviews=frame), title=title)
            self.positions.outputs = (_plotly_output(self.position_fig),)
        self.tables.value = views.summary_html(self.comparison, frame)
        self.faith_tables.value = views.faithfulness_html(self.comparison, self.faithfulness, frame)

    def _on_bertviz(self, button: Any = None) -> None:
        if self.review.value is None:
            return
        words = list(self.comparison.review(self.review.value)["words"])
        layer = -1 if self.layer.value == views.SAVED else self.layer.value
        for which, out in self.bertviz_out.items():
            name = self.comparison.names[which]
            try:
                attention = model_attention.review_attention(self.comparison.run_dir(which), words)
                view = bertviz_views.bertviz_html(attention, self.bertviz_view.value, layer)
                out.outputs = (_html_output(f"<h4>{views.escape(name)}</h4>{view}"),)
            except Exception as exc:
                out.outputs = (_html_output(f"<h4>{views.escape(name)}</h4><p>{views.escape(exc)}</p>"),)


def example_browser(comparison: Comparison, words_per_line: int = 12, faithfulness: Any = None) -> ExampleBrowser:
    """The attention explorer for two runs (`compare.load_comparison`).

    Filters (label, length group, prediction errors) narrow the review list; the chosen
    review's words show as heatmap rows of human, baseline and HuMAL attention (the
    saved last-layer head mean, or any layer/head from the saved models; `rollout rows`
    adds both models' attention rollout). With `faithfulness` (compare.faithfulness)
    the review's predictions with its top-k % words removed show under the heatmap
    (`remove top` picks k). Tabs: position curves, rate/cosine/plausibility and
    faithfulness tables of the filtered reviews; bertviz views of both models (rendered
    on demand, offline: bertviz_views inlines their scripts).
    """
    return ExampleBrowser(comparison, words_per_line=words_per_line, faithfulness=faithfulness)


__all__ = ["ExampleBrowser", "example_browser"]
