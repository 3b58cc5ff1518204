"""bertviz's views as self-contained pages: d3 and jQuery inlined, no remote script, live
(an Output widget's HTML) and in the exported compare report; the browser tests draw them
in headless Chromium with every network request refused."""

from __future__ import annotations

import fnmatch
import os
import tomllib
from pathlib import Path

import nbformat
import numpy as np
import pytest

from humal_nb.analyses import compare, model_attention
from humal_nb.config import runs
from humal_nb.core.paths import REPO_ROOT
from humal_nb.experiments import notebooks
from humal_nb.explorer import bertviz_views

XSS = "</script><script>window.__xss=1</script>"
COMMENT = "<!--<script>"
CHROMIUM = Path("/usr/bin/chromium")
REQUIRED = bool(os.environ.get("HUMAL_REQUIRE_BROWSER"))  # .ci/run sets it: no skipping there
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists() and not REQUIRED,
                                    reason="/usr/bin/chromium is missing (apt-get install chromium)")


def _attention(words: list[str], layers: int = 2, heads: int = 2, seed: int = 0) -> model_attention.ReviewAttention:
    """A ReviewAttention of `words` (one token each between [CLS] and [SEP]), random rows summing to 1."""
    tokens = ["[CLS]", *words, "[SEP]"]
    rows = np.random.default_rng(seed).random((layers, heads, len(tokens), len(tokens)))
    return model_attention.ReviewAttention(
        tokens=tokens, word_ids=[None, *range(len(words)), None], n_words=len(words),
        attentions=(rows / rows.sum(-1, keepdims=True)).astype(np.float32), cls=0,
    )


WORDS = ["the", XSS, COMMENT, "pasta"]


# ---------------------------------------------------------------------- the page
@pytest.mark.parametrize("view", ["head", "model"])
def test_page_is_self_contained(view):
    page = bertviz_views.bertviz_html(_attention(WORDS), view=view, layer=1)
    assert notebooks.remote_scripts(page) == []
    assert "cdnjs" not in page and "require.min.js" not in page and "require.config" not in page
    assert "https://d3js.org v5.7.0" in page and "jQuery v3.7.1" in page  # both inlined, headers kept
    assert "Mike Bostock" in page and "OpenJS Foundation" in page  # their licences with them
    assert page.count("</script>") == 2  # the libraries and bertviz's script: nothing else ends one
    assert "bertviz-" in page and '"[CLS]"' in page
    assert ("THUMBNAIL_PADDING" in page) == (view == "model")


def test_tokens_stay_inside_the_script():
    page = bertviz_views.bertviz_html(_attention(WORDS), view="head")
    assert "<\\/script><script>window.__xss=1<\\/script>" in page and XSS not in page
    assert "<\\!--<script>" in page and "<!--" not in page


def test_libraries_can_come_once_for_several_views():
    script = bertviz_views.library_script()
    assert script.count("</script>") == 1 and bertviz_views.LIBRARIES_GLOBAL in script
    page = bertviz_views.bertviz_html(_attention(WORDS), view="head", libraries=False)
    assert page.count("</script>") == 1 and "jQuery v3.7.1" not in page and bertviz_views.LIBRARIES_GLOBAL in page


def test_an_unknown_bertviz_page_is_refused():
    with pytest.raises(RuntimeError, match="bertviz 1.4.1"):
        bertviz_views._offline_page('<div id="bertviz-x"></div>')


def test_vendored_scripts_are_package_data():
    setuptools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "humal_nb.static" in setuptools["packages"]
    patterns = setuptools["package-data"]["humal_nb.static"]
    files = [bertviz_views.D3_FILE, bertviz_views.D3_LICENSE, bertviz_views.JQUERY_FILE, bertviz_views.JQUERY_LICENSE]
    for name in files:
        path = bertviz_views.STATIC_DIR / name
        assert path.is_file() and path.stat().st_size < 2_000_000
        assert any(fnmatch.fnmatch(name, p) for p in patterns), f"{name} is not package data"


# ---------------------------------------------------------------------- the report's views
def _review(rid: str, label: int, words: list[str], probs: tuple[float, float]) -> list[dict]:
    n = len(words)
    human = [1 / n] * n
    return [{"review_id": rid, "label": label, "prob": p, "length_group": "yelp50", "words": words,
             "human": human, "machine": human, "maps": [[1] * n]} for p in probs]


@pytest.fixture()
def comparison(tmp_path) -> compare.Comparison:
    """Two runs on two hand-made reviews (no saved model); the first one has markup words."""
    reviews = [_review("r0", 1, WORDS, (0.2, 0.9)), _review("r1", 0, ["cold", "soup"], (0.1, 0.2))]
    for k, strategy in ((0, "baseline"), (1, "al")):
        (tmp_path / strategy).mkdir()
        runs.write_json(tmp_path / strategy / runs.ATTENTION_FILE,
                        {"strategy": strategy, "reviews": [r[k] for r in reviews]})
    return compare.load_comparison(tmp_path / "baseline", tmp_path / "al")


@pytest.fixture()
def with_models(monkeypatch):
    """Pretend the runs have saved models: each review's attention is made up from its words."""
    monkeypatch.setattr(bertviz_views.compare, "has_models", lambda comparison: True)
    monkeypatch.setattr(bertviz_views.model_attention, "review_attention",
                        lambda run_dir, words: _attention(list(words), seed=len(str(run_dir))))


def test_report_without_models_is_a_note(comparison):
    html = bertviz_views.report_bertviz_html(comparison)
    assert "saved models" in html and "<script" not in html


def test_report_shows_both_models_with_the_libraries_once(comparison, with_models):
    html = bertviz_views.report_bertviz_html(comparison)
    assert html.count("jQuery v3.7.1") == 1 and html.count("</script>") == 3  # libraries, baseline, HuMAL
    assert "Baseline" in html and "HuMAL-AL" in html and "review r0" in html and "review r1" not in html
    assert notebooks.remote_scripts(html) == [] and XSS not in html
    assert bertviz_views.report_bertviz_html(comparison, n=2).count("</script>") == 5


def _exported_report(html: str, folder: Path) -> Path:
    """`html` as a display_data output of an executed notebook, exported like the compare report."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(HTML(bertviz_views.report_bertviz_html(comparison)))")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": "(html)"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# bertviz"), cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source = folder / "report.ipynb"
    nbformat.write(nb, source)
    return notebooks.export_html(source, folder / "report.html", title="bertviz")


def test_export_keeps_the_inline_scripts(comparison, with_models, tmp_path):
    html = bertviz_views.report_bertviz_html(comparison)
    page = _exported_report(html, tmp_path).read_text()
    assert notebooks.remote_scripts(page) == []
    assert bertviz_views.library_script() in page  # not sanitized, not escaped
    assert page.count("var requirejs = function") == 2 and "<\\/script><script>window.__xss=1<\\/script>" in page


def test_report_views_of_the_tiny_pair(minilm_pair):
    real = compare.load_comparison(*minilm_pair)
    html = bertviz_views.report_bertviz_html(real)
    assert html.count("</script>") == 3 and notebooks.remote_scripts(html) == []
    examples = compare.example_reviews(real, len(real))
    short = examples[examples["n_words"] <= 60]
    row = (short if len(short) else examples.sort_values("n_words", kind="stable")).iloc[0]
    assert f"review {row['review_id']}" in html and "[CLS]" in html  # the first example short enough
    assert html.count('class="humal-bertviz"') == 1 and html.count("<h4>") == 2  # one review, both models


# ---------------------------------------------------------------------- in a browser, offline
@pytest.fixture()
def offline_browser():
    """Headless Chromium whose every request but file: and data: ones is refused."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (HUMAL_REQUIRE_BROWSER is set)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(offline=True)
        remote: list[str] = []

        def refuse(route):
            if route.request.url.startswith(("file:", "data:", "about:")):
                route.continue_()
            else:
                remote.append(route.request.url)
                route.abort()

        context.route("**/*", refuse)
        try:
            yield context, remote
        finally:
            browser.close()


def _open(context, url: str | None = None):
    page, errors = context.new_page(), []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    if url:
        page.goto(url, timeout=60_000)
    return page, errors


def _drawn(page, selector: str = "[id^=bertviz-]") -> list[list[str]]:
    """The svg text of each bertviz view on the page, once every view has drawn."""
    page.wait_for_function(
        "sel => { const v = document.querySelectorAll(sel);"
        " return v.length > 0 && Array.from(v).every(e => e.querySelector('svg text')); }",
        arg=selector, timeout=30_000)
    return page.eval_on_selector_all(selector, "vs => vs.map(v => Array.from(v.querySelectorAll('svg text'),"
                                               " t => t.textContent))")


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("view", ["head", "model"])
def test_views_draw_from_a_file_with_no_network(offline_browser, tmp_path, view):
    context, remote = offline_browser
    page_html = bertviz_views.bertviz_html(_attention(WORDS), view=view, layer=1)
    path = tmp_path / f"{view}.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'></head><body>{page_html}</body></html>")
    page, errors = _open(context, path.as_uri())
    (texts,) = _drawn(page)
    if view == "head":
        assert {"[CLS]", XSS, COMMENT, "pasta"} <= set(texts)  # the tokens, drawn as text
    else:
        assert "Layers" in texts and "Heads" in texts
    assert page.evaluate("window.__xss") is None and page.evaluate("typeof window.$") == "undefined"
    assert page.evaluate(f"window.{bertviz_views.LIBRARIES_GLOBAL}.d3.version") == "5.7.0"
    assert remote == [] and errors == []


@pytest.mark.browser
@needs_chromium
def test_views_draw_when_inserted_like_jupyterlab_outputs(offline_browser):
    """JupyterLab and Voila set an output's innerHTML, then replace each <script> with a
    fresh one (which runs). The page may have an AMD loader and its own `$`: both untouched."""
    context, remote = offline_browser
    page, errors = _open(context)
    page.set_content("<html><body><div id='out1'></div><div id='out2'></div></body></html>")
    page.evaluate("() => { window.define = function () { window.__amd = true; }; window.define.amd = {};"
                  " window.$ = 'page $'; }")
    insert = """([id, html]) => {
        const out = document.getElementById(id);
        out.innerHTML = html;
        for (const old of Array.from(out.querySelectorAll('script'))) {
            const script = document.createElement('script');
            script.type = old.type;
            script.text = old.textContent;
            old.parentNode.replaceChild(script, old);
        }
    }"""
    page.evaluate(insert, ["out1", bertviz_views.bertviz_html(_attention(WORDS), view="head")])
    page.evaluate(insert, ["out2", bertviz_views.bertviz_html(_attention(["cold", "soup"]), view="model")])
    head, model = _drawn(page)
    assert XSS in head and "Layers" in model
    assert page.evaluate("[window.$, window.__amd, window.__xss]") == ["page $", None, None]
    assert remote == [] and errors == []


@pytest.mark.browser
@needs_chromium
def test_exported_report_draws_both_views_offline(offline_browser, comparison, with_models, tmp_path):
    context, remote = offline_browser
    report = _exported_report(bertviz_views.report_bertviz_html(comparison), tmp_path)
    page, errors = _open(context, report.as_uri())
    baseline, humal = _drawn(page, ".humal-bertviz [id^=bertviz-]")
    assert XSS in baseline and XSS in humal
    assert page.evaluate("window.__xss") is None
    assert remote == [] and errors == []
