"""The explorer's figures and widgets, built without a display and driven from Python."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humal_nb.analyses import compare, model_attention
from humal_nb.config import runs
from humal_nb.core.paths import display_path
from humal_nb.experiments import notebooks
from humal_nb.explorer import bertviz_views
from humal_nb.explorer import browser as explorer
from humal_nb.publication import views

XSS = "<script>alert(1)</script>"
LONG = [f"word{i}" for i in range(30)]


def _review(rid, label, words, base_prob, humal_prob, group="yelp50", seed=0):
    rng = np.random.default_rng(seed)
    n = len(words)
    maps = [[int(i % 3 == 0) for i in range(n)], [int(i % 4 == 0) for i in range(n)]]
    human = np.sum(maps, axis=0).astype(float)
    machine = rng.random((2, n))
    return [
        {"review_id": rid, "label": label, "prob": prob, "length_group": group, "words": words,
         "human": list(human / human.sum()), "machine": list(m / m.sum()), "maps": maps}
        for prob, m in ((base_prob, machine[0]), (humal_prob, machine[1]))
    ]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> compare.Comparison:
    """Two runs on five hand-made reviews (no model): every error group, markup in the words."""
    reviews = [
        _review("r0", 1, [XSS, "great", "&amp;", "<b>food</b>", "friendly"], 0.2, 0.9, seed=0),  # baseline wrong
        _review("r1", 0, ["awful", "cold", "pasta"], 0.1, 0.7, seed=1),  # HuMAL wrong
        _review("r2", 1, ["nice", "place", "but", "slow"], 0.3, 0.4, "yelp100", seed=2),  # both wrong
        _review("r3", 0, LONG, 0.2, 0.1, "yelp100", seed=3),  # both right
        _review("r4", 1, ["lovely", "staff"], 0.8, 0.95, seed=4),  # both right
    ]
    root = tmp_path_factory.mktemp("synthetic")
    for k, strategy in ((0, "baseline"), (1, "al")):
        folder = root / strategy
        folder.mkdir()
        runs.write_json(folder / runs.ATTENTION_FILE, {"strategy": strategy, "reviews": [r[k] for r in reviews]})
    return compare.load_comparison(root / "baseline", root / "al")


def _shown(browser: explorer.ExampleBrowser) -> dict:
    """The figure the heatmap Output widget holds (what the page draws)."""
    (output,) = browser.heatmap.outputs
    return output["data"][notebooks.PLOTLY_MIME]["data"][0]


def _words(fig) -> set[str]:
    return {t for line in fig.data[0].text for t in line if t}


# ---------------------------------------------------------------------- heatmap_figure
def test_heatmap_rows_are_aligned_on_one_colour_scale():
    words = ["the", "food", XSS, "&amp;"]
    rows = {"human": [0.5, 0.5, 0.0, 0.0], "Baseline": [0.1, 0.2, 0.3, 0.4], "HuMAL-AL": [0.25, 0.25, 0.25, 0.25]}
    fig = views.heatmap_figure(words, rows, title="review <1>", words_per_line=10)
    trace = fig.data[0]
    assert trace.type == "heatmap" and trace.zmin == 0 and trace.zmax == 0.5  # shared: the largest value
    assert [list(r[:4]) for r in trace.z] == [list(v) for v in rows.values()]
    escaped = ["the", "food", "&lt;script&gt;alert(1)&lt;/script&gt;", "&amp;amp;"]
    assert all(list(r[:4]) == escaped for r in trace.text)  # every row under the same words
    assert all(t == "" for r in trace.text for t in r[4:]) and all(v is None for r in trace.z for v in r[4:])
    assert list(fig.layout.yaxis.ticktext) == ["human", "Baseline", "HuMAL-AL"]
    assert "Baseline<br>word 3: &lt;script&gt;" in trace.hovertext[1][2] and "0.3000" in trace.hovertext[1][2]
    assert fig.layout.title.text == "review &lt;1&gt;"
    assert XSS not in fig.to_json()


def test_long_reviews_wrap_with_every_row_per_line():
    rows = {"human": np.full(30, 1 / 30), "model": np.linspace(0, 1, 30)}
    fig = views.heatmap_figure(LONG, rows, words_per_line=14, zmax=2.0)
    trace = fig.data[0]
    assert len(trace.z) == 3 * 3 - 1  # 3 lines of 2 rows, a blank row between lines
    assert list(trace.text[0][:2]) == ["word0", "word1"] and list(trace.text[3][:2]) == ["word14", "word15"]
    assert list(trace.text[6][:2]) == ["word28", "word29"] and trace.text[2] == [""] * 14
    assert trace.zmax == 2.0 and list(fig.layout.yaxis.tickvals) == [0, 1, 3, 4, 6, 7]
    with pytest.raises(ValueError, match="row 'model' has 29 values for 30 words"):
        views.heatmap_figure(LONG, {"model": np.ones(29)})


# ---------------------------------------------------------------------- the browser, synthetic runs
def test_browser_builds_and_follows_the_review_selector(synthetic):
    browser = explorer.example_browser(synthetic)
    assert isinstance(browser, explorer.ExampleBrowser)
    assert [value for _, value in browser.review.options] == ["r0", "r1", "r2", "r3", "r4"]
    assert browser.review.value == "r0" and "&lt;script&gt;alert(1)&lt;/script&gt;" in _words(browser.figure)
    assert _shown(browser)["text"] == [list(r) for r in browser.figure.data[0].text]
    before = [list(r) for r in browser.figure.data[0].z]
    browser.review.value = "r1"
    assert _words(browser.figure) == {"awful", "cold", "pasta"}
    assert [list(r) for r in browser.figure.data[0].z] != before
    assert _shown(browser)["text"][0][:3] == ["awful", "cold", "pasta"]
    assert "review r1" in browser.info.value and "HuMAL wrong" in browser.info.value
    assert browser.layer.disabled and browser.head.disabled  # these runs have no saved model
    assert (browser.label.label, browser.length_group.label, browser.errors.label) == ("all", "all", "all reviews")
    assert (browser.layer.label, browser.head.label) == ("last, saved (eq. 1)", "mean of heads")
    assert browser.bertviz_button.disabled


def test_filters_narrow_the_reviews_and_the_summaries(synthetic):
    browser = explorer.example_browser(synthetic)
    browser.label.value = 1
    assert [v for _, v in browser.review.options] == ["r0", "r2", "r4"] and browser.review.value == "r0"
    browser.errors.value = "both"
    assert [v for _, v in browser.review.options] == ["r2"] and browser.review.value == "r2"
    assert _words(browser.figure) == {"nice", "place", "but", "slow"}
    assert "1 of 5 test reviews" in browser.tables.value
    browser.errors.value = "any"
    browser.length_group.value = "yelp100"
    assert [v for _, v in browser.review.options] == ["r2"]
    browser.label.value = 0
    assert [v for _, v in browser.review.options] == ["r3"] and len(browser.figure.data[0].z) == 3 * 4 - 1  # 30 words
    browser.errors.value = "baseline_only"  # no label-0 yelp100 review the baseline alone got wrong
    assert browser.review.value is None and browser.heatmap.outputs == () and len(browser.figure.data) == 0
    assert "No review matches" in browser.info.value and "No review matches" in browser.tables.value
    browser.errors.value = "neither"
    assert browser.review.value == "r3"


def test_summary_tabs_are_escaped_tables_and_a_position_figure(synthetic):
    browser = explorer.example_browser(synthetic)
    fig = browser.position_fig
    assert [t.name for t in fig.data] == ["human", "Baseline", "HuMAL-AL"]
    (output,) = browser.positions.outputs
    assert len(output["data"][notebooks.PLOTLY_MIME]["data"]) == 3
    tables = browser.tables.value
    assert "5 of 5 test reviews" in tables and "13-21 % highlighted" in tables and "%" in tables
    assert "cosine to human (mean)" in tables and "AUPRC" in tables
    browser.label.value = 0
    assert "2 of 5" in browser.tables.value and "reviews" in browser.position_fig.layout.title.text


def test_static_heatmaps_are_escaped_html(synthetic):
    page = views.static_heatmaps_html(synthetic, n=4)
    assert page.count('class="humal-heatmap"') == 4
    assert XSS not in page and "<b>food</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&amp;amp;" in page and "&lt;b&gt;food&lt;/b&gt;" in page
    assert "review r0 | label 1" in page and "baseline wrong" in page
    assert "<script" not in page  # static: no script at all


def test_tables_and_figure_html():
    import pandas as pd

    frame = pd.DataFrame({"source": [XSS, "b"], "rate_std": [0.1234, np.nan], "cosine_mean": [0.5, 0.25]})
    table = views.table_html(frame, caption="a <caption>")
    assert XSS not in table and "&lt;script&gt;" in table and "12.3 %" in table and "0.250" in table
    assert "a &lt;caption&gt;" in table and "high: mean + 1 std rule" in table
    fig = views.position_figure(pd.DataFrame({"source": ["human"] * 2, "position": [0.25, 0.75],
                                                "attention": [1.2, 0.8]}))
    assert "plotly.js v" in views.figure_html(fig, include_plotlyjs=True)
    assert "plotly.js v" not in views.figure_html(fig) and "Plotly.newPlot" in views.figure_html(fig)


def test_header_names_both_runs(synthetic):
    header = views.comparison_header_html(synthetic)
    assert "Baseline" in header and "HuMAL-AL" in header and display_path(synthetic.humal_dir) in header
    assert str(synthetic.humal_dir) not in header  # the folder as display_path names it, not the absolute path


# ---------------------------------------------------------------------- layers, heads, bertviz: real runs
@pytest.fixture(scope="module")
def real(minilm_pair) -> compare.Comparison:
    return compare.load_comparison(*minilm_pair)


def test_layer_and_head_selectors_redraw_the_model_rows(real):
    browser = explorer.example_browser(real)
    assert not browser.layer.disabled and len(browser.layer.options) == 7 and len(browser.head.options) == 13
    row = real.reviews.iloc[0]
    saved = [list(r) for r in browser.figure.data[0].z]
    np.testing.assert_allclose(np.array(saved[2][:12], dtype=float), row["humal"][:12])
    browser.head.value = 3
    ticks = list(browser.figure.layout.yaxis.ticktext)
    assert ticks[:3] == ["human", "Baseline (layer last, head 3)", "HuMAL-AL (layer last, head 3)"]
    after = [list(r) for r in browser.figure.data[0].z]
    assert after[0] == saved[0] and after[1] != saved[1] and after[2] != saved[2]  # human row unchanged
    browser.layer.value = 0
    assert list(browser.figure.layout.yaxis.ticktext)[1] == "Baseline (layer 0, head 3)"
    expected = model_attention.layer_head_attention(real.humal_dir, row["words"], 0, 3)
    np.testing.assert_allclose(np.array(browser.figure.data[0].z[2][:12], dtype=float), expected[:12])
    assert _shown(browser)["z"][2][:12] == list(browser.figure.data[0].z[2][:12])
    browser.layer.value, browser.head.value = views.SAVED, views.MEAN
    assert [list(r) for r in browser.figure.data[0].z] == saved


def test_bertviz_views_render_on_demand(real):
    browser = explorer.example_browser(real)
    assert all(out.outputs == () for out in browser.bertviz_out.values())
    browser.bertviz_button.click()
    for which, out in browser.bertviz_out.items():
        (output,) = out.outputs
        page = output["data"]["text/html"]
        assert real.names[which] in page and "bertviz-" in page and '"[CLS]"' in page
        assert notebooks.remote_scripts(page) == [] and "cdnjs" not in page  # d3, jQuery inlined: offline
    browser.bertviz_view.value = "model"
    browser.bertviz_button.click()
    model_page = browser.bertviz_out["humal"].outputs[0]["data"]["text/html"]
    assert "THUMBNAIL_PADDING" in model_page and "THUMBNAIL_PADDING" not in page  # bertviz's model view
    browser.review.value = browser.review.options[1][1]
    assert all(out.outputs == () for out in browser.bertviz_out.values())  # stale views cleared


def test_notebook_has_one_parameters_cell_and_no_outputs():
    import nbformat

    nb = nbformat.read(Path(compare.COMPARE_NOTEBOOK), as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and nb.metadata.kernelspec.name == "python3"
    for name in ("baseline_run = ''", "humal_run = ''", "out_dir = 'outputs/compare'", "n_static = 5"):
        assert name in tagged[0].source
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and c is not tagged[0])
    assert "def " not in code and "for " not in code and "import humal_nb" not in code


def test_bertviz_tokens_cannot_close_its_script():
    tokens = ["[CLS]", "</script><script>window.__xss=1</script>", "[SEP]"]
    attention = model_attention.ReviewAttention(tokens=tokens, word_ids=[None, 0, None], n_words=1,
                                         attentions=np.full((2, 2, 3, 3), 1 / 3, dtype=np.float32), cls=0)
    for view in ("head", "model"):
        page = bertviz_views.bertviz_html(attention, view=view, layer=1)
        assert page.count("</script>") == 2  # the inlined d3 + jQuery script and bertviz's own, nothing else
        assert "<\\/script><script>window.__xss=1<\\/script>" in page
    with pytest.raises(ValueError, match="'head' or 'model'"):
        bertviz_views.bertviz_html(attention, view="neuron")
