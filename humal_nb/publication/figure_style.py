"""How every publication figure of humal_nb looks and is written: one palette, two widths, three formats.

- **Palette**: Okabe-Ito (Okabe and Ito 2008), the eight colours that stay apart under the
  common colour-vision deficiencies. `STRATEGY_COLORS` is the one mapping from a strategy
  (and the human attention) to its colour; every figure asks `line_style` for a strategy's
  or a control arm's colour, so HuMAL-AL is vermillion in Fig. 3, 4, 5 and 6 alike. A control
  arm (`arms`: `al+random`, `al+f0.1`) has a colour and marker of its own (`arm_style`: a rationale
  source's own, a lighter tint of the strategy's colour and another marker for a smaller rationale
  budget) and a dashed line for another rationale source (`series_style` joins the two).
  Heatmaps use `markup`'s one colour rule (white to dark blue, as the HTML reports and the
  explorer), readable under colour-vision deficiencies and in grey print, dark words white.
- **Sizes**: `ONE_COLUMN` (3.3 in) and `TWO_COLUMN` (7 in) wide, the widths of a one- and a
  two-column paper figure; 8 pt text.
- **Formats** (`FORMATS`): vector PDF and SVG, 300-dpi PNG. `pdf.fonttype` 42 embeds the font
  as TrueType, so the text stays text (selectable, editable, searchable) and publishers'
  checks that refuse Type 3 fonts pass. `svg.fonttype` 'path': SVG cannot embed a font, so
  glyphs are written as outlines and the figure looks the same on a machine without DejaVu
  Sans ('none' would leave the look to the viewer's fonts). Dates are left out of the PDF
  and SVG metadata and SVG ids are salted with a constant, so the same data writes the same
  bytes. Nothing is rasterized (no `imshow`; the colour bar's solids are kept vector).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure

from humal_nb.config import arms, runs
from humal_nb.core.errors import ParameterError
from humal_nb.core.names import DEFAULT_RATIONALE_FRACTION, DEFAULT_RATIONALE_SOURCE

#: Okabe-Ito colour-blind-safe palette
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: the one colour of each strategy (and of the human attention) in every figure
STRATEGY_COLORS = {
    "baseline": OKABE_ITO["blue"],
    "al": OKABE_ITO["vermillion"],
    "an": OKABE_ITO["bluish_green"],
    "ap": OKABE_ITO["reddish_purple"],
    "human": OKABE_ITO["orange"],
}
OTHER_COLOR = OKABE_ITO["black"]  # a strategy name humal_nb does not know
MARKERS = {"baseline": "o", "al": "s", "an": "^", "ap": "D", "human": "X"}
SOURCE_LINESTYLES = {"human": "-", "random": "--", "uniform": "-."}
#: the colour and marker of each rationale source of HuMAL-AL's control arms (people's: the strategy's own)
SOURCE_COLORS = {"random": OKABE_ITO["orange"], "uniform": OKABE_ITO["black"], "random_outside": OKABE_ITO["sky_blue"],
                 "lexicon": OKABE_ITO["bluish_green"]}
SOURCE_MARKERS = {"random": "v", "uniform": "P", "random_outside": "<", "lexicon": "*"}
#: the marker of an annotation budget arm (people's rationales on a share of the reviews), by share
BUDGET_MARKERS = ((0.2, "p"), (0.5, "h"), (1.0, "8"))


def arm_style(key: str) -> dict[str, Any]:
    """Colour and marker of a strategy or control arm: the strategy's own for people's
    rationales, the source's own for another source, a lighter tint of the strategy's colour and a
    marker of its own for a share of the reviews (`BUDGET_MARKERS`), so no two arms of a figure
    share both."""
    strategy, source, fraction = arms.split_key(key)
    if source in SOURCE_COLORS:
        return {"color": SOURCE_COLORS[source], "marker": SOURCE_MARKERS[source]}
    color, marker = STRATEGY_COLORS.get(strategy, OTHER_COLOR), MARKERS.get(strategy, "o")
    if fraction != DEFAULT_RATIONALE_FRACTION:
        color = _tint(color, 0.55 * (1 - fraction))
        marker = next(m for share, m in BUDGET_MARKERS if fraction < share or share == 1.0)
    return {"color": color, "marker": marker}


def series_style(key: str) -> dict[str, Any]:
    """A line's look in a figure: `arm_style`'s colour and marker, `line_style`'s line style."""
    return {**line_style(key), **arm_style(key)}

ONE_COLUMN = 3.3  # inches
TWO_COLUMN = 7.0
FORMATS = ("pdf", "svg", "png")
DPI = 300

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # shipped with matplotlib: the same glyphs everywhere
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "errorbar.capsize": 2,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "humal_nb",
    "savefig.dpi": DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
}
METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "png": {}}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """The publication rcParams, for drawing and saving (the caller's settings come back after)."""
    with matplotlib.rc_context(RC):
        yield


def _tint(color: str, share: float) -> str:
    """`color` mixed with white: share 0 is the colour, 1 is white."""
    return to_hex(tuple(c + (1 - c) * share for c in to_rgb(color)))


def line_style(key: str) -> dict[str, Any]:
    """Colour, line style and marker of a strategy, an arm key (`arms.arm_key`) or `human`."""
    strategy, source, fraction = arms.split_key(key)
    color = STRATEGY_COLORS.get(strategy, OTHER_COLOR)
    marker = MARKERS.get(strategy, "o")
    if fraction != DEFAULT_RATIONALE_FRACTION:
        color = _tint(color, 0.55 * (1 - fraction))
        marker = "v" if fraction < 0.5 else "P"
    linestyle = SOURCE_LINESTYLES.get(source, ":") if source != DEFAULT_RATIONALE_SOURCE else "-"
    return {"color": color, "linestyle": linestyle, "marker": marker}


def new_figure(width: float, height: float, ncols: int = 1, nrows: int = 1, **subplots: Any) -> tuple[Figure, Any]:
    """A figure (no pyplot: nothing global, no GUI backend) and its axes, as `Figure.subplots`."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False, **subplots)


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """'pdf,svg' -> ('pdf', 'svg'); refuses a format outside FORMATS, naming the valid ones."""
    items = [t.strip().lower().lstrip(".") for t in (text.split(",") if isinstance(text, str) else text)]
    items = [t for t in dict.fromkeys(items) if t]
    unknown = [t for t in items if t not in FORMATS]
    if unknown or not items:
        raise ParameterError(f"figure format(s) {unknown or text!r} unknown; valid: {', '.join(FORMATS)}.")
    return tuple(items)


def file_stem(text: str) -> str:
    """A name safe in every file system: letters, digits, '.', '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "figure"


#: the caption file written beside each figure: `<stem>.caption.txt`
CAPTION_SUFFIX = ".caption.txt"


def save(fig: Figure, out_dir: Path, name: str, formats: Sequence[str] = FORMATS, caption: str = "") -> list[Path]:
    """Write `fig` as `out_dir/name.<format>` for each format and, with `caption`, the caption
    text (what is plotted, n, what the bars are) as `out_dir/name.caption.txt`; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if caption:
        path = out_dir / f"{file_stem(name)}{CAPTION_SUFFIX}"
        runs.atomic_write_text(path, " ".join(caption.split()) + "\n")
        paths.append(path)
    for fmt in formats:
        path = out_dir / f"{file_stem(name)}.{fmt}"
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=METADATA.get(fmt) or None)
        runs.atomic_write_bytes(path, buffer.getvalue())  # a killed export leaves the old file or the new
        paths.append(path)
    return paths


__all__ = [
    "FORMATS",
    "OKABE_ITO",
    "ONE_COLUMN",
    "STRATEGY_COLORS",
    "TWO_COLUMN",
    "file_stem",
    "line_style",
    "arm_style",
    "new_figure",
    "parse_formats",
    "save",
    "series_style",
    "style",
]
