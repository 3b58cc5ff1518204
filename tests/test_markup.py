"""The one HTML helper module and the one heatmap colour rule of the explorer (plotly), the
static report heatmaps (HTML) and the publication figures (matplotlib)."""

from __future__ import annotations

import numpy as np
import pytest

from humal_nb.core import markup
from humal_nb.publication import figures, plots, views

WORDS = ["good", "<b>bad</b>", "food", "the"]
ROWS = {"human": [0.5, 0.5, 0.0, 0.0], "HuMAL-AL": [0.1, 0.2, 0.3, 0.4]}


def test_escape_and_notes():
    assert markup.escape("<script>x</script> & 'a' \"b\"") == "&lt;script&gt;x&lt;/script&gt; &amp; 'a' \"b\""
    note = markup.note_html("first <line>\nsecond")
    assert note.startswith('<p class="humal-note"') and "first &lt;line&gt;<br>second" in note
    assert markup.heading_html("Grid <x>", 2) == "<h2>Grid &lt;x&gt;</h2>"
    assert views.escape is markup.escape


@pytest.mark.parametrize("strength", [0.0, 0.25, 0.5, 0.8, 1.0])
def test_the_three_renderers_share_one_colour_rule(strength):
    """plotly and matplotlib interpolate linearly between the same two ends, and the static
    HTML cell is the blend itself, so a value has one colour everywhere."""
    expected = np.array(markup.heat_rgb(strength))
    low, high = (np.array([float(c) for c in end[1][4:-1].split(",")]) for end in markup.heat_colorscale())
    np.testing.assert_allclose(low + strength * (high - low), expected, atol=1e-6)  # plotly's linear scale
    np.testing.assert_allclose(np.array(markup.heat_colormap()(strength)[:3]) * 255, expected, atol=1.0)  # 256 steps
    css = markup.heat_color(strength * 0.4, 0.4)
    assert css == "rgb({},{},{})".format(*(round(c) for c in expected))


def test_top_is_the_largest_value_of_all_rows_and_zeros_stay_white():
    assert markup.heat_top(ROWS.values()) == 0.5
    assert markup.heat_top([[0.0, 0.0], [np.nan, 0.0]]) == 1.0  # nothing above 0: every cell white
    assert markup.heat_color(0.0, 1.0) == markup.heat_color(np.nan, 1.0) == "rgb(255,255,255)"
    assert markup.heat_text_color(0.5, 0.5) == "white" and markup.heat_text_color(0.2, 0.5) == "black"


def test_interactive_static_and_paper_heatmaps_use_the_rule():
    fig = views.heatmap_figure(WORDS, ROWS)
    trace = fig.data[0]
    assert [list(stop) for stop in trace.colorscale] == markup.heat_colorscale()
    assert (trace.zmin, trace.zmax) == (0.0, 0.5)
    block = plots.review_heatmap_html(WORDS, ROWS)
    assert block.count(f"background:{markup.heat_color(0.5, 0.5)}") == 2
    paper = figures.review_heatmap_figure(WORDS, ROWS)
    faces = {tuple(np.round(np.array(p.get_facecolor()[:3]) * 255)) for p in paper.axes[0].patches}
    assert tuple(np.round(markup.heat_rgb(1.0))) in faces and (255.0, 255.0, 255.0) in faces
