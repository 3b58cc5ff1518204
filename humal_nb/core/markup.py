"""The HTML pieces every report and view shares, and the one colour rule of review heatmaps.

- `escape(value)`: text for an HTML element's content (`<`, `>`, `&` escaped), so a review
  that contains markup renders as text.
- `note_html(text)`: a short italic note (line breaks kept); `heading_html(text, level)`.
- The heatmap colour rule, one for the interactive explorer (plotly), the static HTML
  heatmaps of the reports and the publication figures (matplotlib): a word's colour is white
  blended toward `HEAT_RGB` (the dark end of plotly's "Blues") by `HEAT_ALPHA * value / top`,
  where `top` is the largest value of all the review's rows (`heat_top`), so every row of a
  review shares one scale and a value of 0 is white; words on the darker cells
  (above `TEXT_FLIP` of the top) are drawn white. `heat_color` gives a cell's CSS colour,
  `heat_colorscale` the plotly colour scale and `heat_colormap` the matplotlib colour map of
  the same rule.

No module here imports plotly, matplotlib or torch at import time.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import numpy as np

HEAT_RGB = (8, 81, 156)  # the darkest colour of the scale before blending (plotly's "Blues" end)
HEAT_ALPHA = 0.85  # how far the largest value goes toward HEAT_RGB from white
TEXT_FLIP = 0.55  # words on cells above this share of the top are drawn white


# ---------------------------------------------------------------------- text
def escape(value: Any) -> str:
    """`value` as text inside an HTML element (quotes kept: only `<`, `>` and `&` matter there)."""
    return html.escape(str(value), quote=False)


def note_html(text: str) -> str:
    """A short note in italics, escaped, its line breaks kept (notebook outputs and reports)."""
    lines = "<br>".join(escape(line) for line in str(text).splitlines())
    return f'<p class="humal-note" style="font-family:sans-serif;font-size:13px;"><em>{lines}</em></p>'


def heading_html(text: str, level: int = 3) -> str:
    """An escaped heading (for headings that depend on the data)."""
    return f"<h{level}>{escape(text)}</h{level}>"


# ---------------------------------------------------------------------- the heatmap colour rule
def heat_top(rows: Iterable[Any]) -> float:
    """The top of a review's colour scale: the largest finite value of all its rows, or 1
    when none is above 0 (every cell is then white)."""
    top = 0.0
    for row in rows:
        arr = np.asarray(row, dtype=float)
        finite = arr[np.isfinite(arr)]
        if finite.size:
            top = max(top, float(finite.max()))
    return top if top > 0 else 1.0


def heat_strength(value: float, top: float) -> float:
    """`value / top` clipped to [0, 1]; 0 for a missing (NaN) value."""
    if not np.isfinite(value) or top <= 0:
        return 0.0
    return max(0.0, min(1.0, float(value) / top))


def heat_rgb(strength: float) -> tuple[float, float, float]:
    """The colour at `strength` in [0, 1], as 0-255 floats: white blended toward `HEAT_RGB`."""
    share = HEAT_ALPHA * max(0.0, min(1.0, strength))
    return tuple(255.0 + share * (c - 255.0) for c in HEAT_RGB)  # type: ignore[return-value]


def heat_color(value: float, top: float) -> str:
    """A word's cell colour as CSS `rgb(...)`."""
    r, g, b = (round(c) for c in heat_rgb(heat_strength(value, top)))
    return f"rgb({r},{g},{b})"


def heat_text_color(value: float, top: float) -> str:
    """The word's colour on its cell: white on the darker cells, else black."""
    return "white" if heat_strength(value, top) > TEXT_FLIP else "black"


def heat_colorscale() -> list[list[Any]]:
    """The rule as a plotly colour scale (zmin 0, zmax `heat_top`): plotly interpolates
    linearly in RGB, as the blend does."""
    return [[0.0, _css(heat_rgb(0.0))], [1.0, _css(heat_rgb(1.0))]]


def heat_colormap() -> Any:
    """The rule as a matplotlib colour map (normalise by 0 and `heat_top`)."""
    from matplotlib.colors import LinearSegmentedColormap

    ends = [tuple(c / 255.0 for c in heat_rgb(s)) for s in (0.0, 1.0)]
    return LinearSegmentedColormap.from_list("humal_heat", ends)


def _css(rgb: tuple[float, float, float]) -> str:
    return "rgb({},{},{})".format(*(round(c, 2) for c in rgb))


__all__ = [
    "format_ratio",
    "HEAT_ALPHA",
    "HEAT_RGB",
    "TEXT_FLIP",
    "escape",
    "heading_html",
    "heat_color",
    "heat_colorscale",
    "heat_colormap",
    "heat_rgb",
    "heat_strength",
    "heat_text_color",
    "heat_top",
    "note_html",
]


def format_ratio(ratio: float) -> str:
    """0.05 -> '5%', 0.005 -> '0.5%'."""
    return f"{ratio * 100:g}%"
