"""bertviz's head and model views of one review through a saved model (the explorer's
bertviz tab, and the head views of the compare report).

bertviz 1.4.1 writes a page that loads require.js, d3 and jQuery from a CDN. `bertviz_html`
turns it into a self-contained page: d3 5.7.0 and jQuery 3.7.1, vendored in
`humal_nb/static/` with their licences, are inlined in one script (`library_script`), and
bertviz's own script takes them from a local stand-in for its `requirejs` call, so the
views render with no network, live (JupyterLab, Voila) and in an exported HTML page.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from humal_nb.analyses import compare, model_attention
from humal_nb.analyses.compare import Comparison
from humal_nb.analyses.model_attention import ReviewAttention
from humal_nb.core.errors import HumalError
from humal_nb.core.names import BERTVIZ_CACHE_FILE
from humal_nb.publication import views

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"  # humal_nb/static
D3_FILE, D3_LICENSE = "d3-5.7.0.min.js", "LICENSE-d3.txt"
JQUERY_FILE, JQUERY_LICENSE = "jquery-3.7.1.min.js", "LICENSE-jquery.txt"
# the page-wide name under which library_script leaves {d3, jquery} for the views' scripts
LIBRARIES_GLOBAL = "humalBertvizLibs"

BERTVIZ_NOTE = (
    "Head view: hover a token to see where it attends; click a head's colour to show or hide it, "
    "double-click to show only that head. Model view: click a head's thumbnail to enlarge it. "
    "The views carry their scripts (d3, jQuery): they render offline."
)

_SCRIPT_OPEN = '<script type="text/javascript">'
_SCRIPT_CLOSE = "</script>"
# bertviz's <script src=...require.min.js> tag and its require.config block of CDN paths
_REQUIRE_TAG = re.compile(r'<script src="https?://[^"]*require[^"]*"></script>')
_REQUIRE_CONFIG = re.compile(r"require\.config\(\{.*?\}\s*\}\);", re.DOTALL)


def bertviz_html(attention: ReviewAttention, view: str = "head", layer: int = -1, libraries: bool = True) -> str:
    """bertviz's head view (the chosen layer, all heads) or model view (every layer and head)
    of one review through one model, as a self-contained HTML string (no remote script).

    Args:
        attention: `model_attention.review_attention(run_dir, words)`: [layers, heads, tokens, tokens].
        view: "head" or "model".
        layer: the head view's layer (-1 = last).
        libraries: start the page with `library_script()` (d3 and jQuery inlined). Pass
            False only for a page that holds that script once before all its views.
    """
    import torch
    from bertviz import head_view, model_view

    n_layers = attention.attentions.shape[0]
    layer = layer % n_layers
    # rounded float64: bertviz writes every value into the page as JSON
    tensors = [torch.round(torch.from_numpy(a.astype(np.float64)), decimals=3).unsqueeze(0) for a in attention.attentions]
    tokens = [str(t) for t in attention.tokens]
    if view == "head":
        result = head_view(attention=tensors, tokens=tokens, layer=layer, include_layers=[layer], html_action="return")
    elif view == "model":
        result = model_view(attention=tensors, tokens=tokens, display_mode="light", html_action="return")
    else:
        raise ValueError(f"view must be 'head' or 'model', got {view!r}.")
    page = _offline_page(result.data)
    return library_script() + page if libraries else page


@functools.lru_cache(maxsize=1)
def library_script() -> str:
    """One <script> that loads d3 and jQuery from the vendored files into
    `window.humalBertvizLibs` (once per page: a second copy returns at once).

    The libraries see no AMD or CommonJS loader (a notebook page may have require.js),
    so each takes its plain-browser path; d3 attaches itself to the holder it is called
    on, and jQuery's `noConflict(true)` hands back the page's own `$` and `jQuery`."""
    d3, jquery = _static_text(D3_FILE), _static_text(JQUERY_FILE)
    return (
        f"{_SCRIPT_OPEN}\n(function () {{\n"
        f"if (window.{LIBRARIES_GLOBAL}) {{ return; }}\n"
        "var define, module, exports;  // hidden: the libraries take their plain-browser path\n"
        "var libs = {};\n"
        f"/* {D3_FILE} (d3 5.7.0), licence:\n{_static_text(D3_LICENSE)}*/\n"
        f"(function () {{\n{d3}\n}}).call(libs);\n"
        f"/* {JQUERY_FILE} (jQuery 3.7.1), licence:\n{_static_text(JQUERY_LICENSE)}*/\n"
        f"(function () {{\n{jquery}\n}}).call(window);\n"
        "libs.jquery = window.jQuery.noConflict(true);\n"
        f"window.{LIBRARIES_GLOBAL} = libs;\n"
        f"}})();\n{_SCRIPT_CLOSE}\n"
    )


def _static_text(name: str) -> str:
    """A vendored file, checked to be safe inside an inline <script>."""
    path = STATIC_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: humal_nb's bertviz views inline it (reinstall humal_nb).")
    text = path.read_text(encoding="utf-8")
    if "</script" in text.lower() or "<!--" in text or (name.endswith(".txt") and "*/" in text):
        raise RuntimeError(f"{path} cannot be inlined in a <script>: it holds '</script', '<!--' or '*/'.")
    return text


def _offline_page(page: str) -> str:
    """bertviz's returned page without require.js: its markup, then its script wrapped so
    that `requirejs(['jquery', 'd3'], f)` calls f with the inlined libraries."""
    markup, opened, tail = page.partition(_SCRIPT_OPEN)
    body, closed, rest = tail.rpartition(_SCRIPT_CLOSE)
    markup, n_tags = _REQUIRE_TAG.subn("", markup)
    body, n_configs = _REQUIRE_CONFIG.subn("", body, count=1)
    if not (opened and closed and n_tags == 1 and n_configs == 1):
        raise RuntimeError("bertviz's page is not laid out as bertviz 1.4.1 writes it (the pinned version, "
                           "requirements.txt): humal_nb cannot make it self-contained.")
    script = (
        f"{_SCRIPT_OPEN}\n(function () {{\n"
        f"var libs = window.{LIBRARIES_GLOBAL};\n"
        "if (!libs) { throw new Error('humal_nb: the bertviz libraries script must come before this view'); }\n"
        "var requirejs = function (names, callback) {  // bertviz's call, answered from the inlined libraries\n"
        "  callback.apply(null, names.map(function (name) { return libs[name]; }));\n"
        "};\n"
        f"{_escape_script(body)}\n}})();\n{_SCRIPT_CLOSE}"
    )
    return markup + script + rest


def _escape_script(body: str) -> str:
    """bertviz writes the tokens as JSON into its script; a token holding "</script>" would
    end it early, one holding "<!--" would change how the browser finds its end. bertviz's
    own JavaScript has neither "</" nor "<!", so each comes from a JSON string and becomes
    the equivalent JavaScript escape ("<\\/", "<\\!--")."""
    return body.replace("</", "<\\/").replace("<!--", "<\\!--")


def report_bertviz_html(comparison: Comparison, n: int = 1, layer: int = -1, max_words: int = 60) -> str:
    """bertviz's head view (`layer`, all heads) of `n` example reviews through both saved
    models, side by side, for the exported report: self-contained, d3 and jQuery inlined
    once. A note when a run kept no model.

    The page holds every head's full token-by-token matrix, so its size grows with the
    square of the review's length (about 0.7 MB for two models at 66 tokens): the examples
    are the first of `compare.example_reviews`' order with at most `max_words` words (the
    shortest reviews when none is that short)."""
    if not compare.has_models(comparison):
        return "<p><em>No bertviz views: the runs kept no saved models (model/ folders).</em></p>"
    blocks = [library_script()]
    for _, row in _short_examples(comparison, n, max_words).iterrows():
        words = [str(w) for w in row["words"]]
        cells = []
        for which, name in comparison.names.items():
            view = cached_head_view(comparison.run_dir(which), words, layer)
            cells.append(f'<div style="flex:1 1 0;min-width:0;overflow:auto;">'
                         f"<h4>{views.escape(name)}</h4>{view}</div>")
        blocks.append(
            f'<p style="font-size:13px;">{views.escape(views.review_title(comparison, row))}</p>'
            f'<div style="display:flex;gap:16px;">{"".join(cells)}</div>'
        )
    return '<div class="humal-bertviz">' + "".join(blocks) + "</div>"


def cached_head_view(run_dir: str | Path, words: list[str], layer: int = -1) -> str:
    """`bertviz_html`'s head view of one review through a run's saved model, without the
    libraries, kept in the run folder (`bertviz_cache.json`, keyed by the model's files and
    max_length as `model_cache` keys every cache): a second report runs no model for it."""
    from humal_nb.experiments.run import Run
    from humal_nb.method.model_cache import KeyedCache, cache_fields, cache_key, text_key

    try:
        run = Run.open(run_dir)
        fields = (run.require_model(check_files=False), "bertviz", run.config.max_length, "cpu", "fp32")
    except HumalError:  # not a finished run with a model: nothing to key a cache by (reading it says why)
        return bertviz_html(model_attention.review_attention(run_dir, words), "head", layer, libraries=False)
    store = KeyedCache(Path(run.folder) / BERTVIZ_CACHE_FILE, cache_key(*fields), cache_fields(*fields))
    entry = f"{layer}:{text_key(words)}"
    if entry not in store.entries:
        store.entries[entry] = bertviz_html(model_attention.review_attention(run.folder, words), "head", layer,
                                            libraries=False)
        store.save()
    return str(store.entries[entry])


def _short_examples(comparison: Comparison, n: int, max_words: int) -> pd.DataFrame:
    """`n` example reviews of at most `max_words` words, in `example_reviews`' order."""
    ordered = compare.example_reviews(comparison, len(comparison))
    short = ordered[ordered["n_words"] <= max_words]
    return short.head(n) if len(short) >= n else ordered.sort_values("n_words", kind="stable").head(n)
