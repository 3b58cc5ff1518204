"""bertviz's head and model views of one review through a saved model (the explorer's
bertviz tab)."""

from __future__ import annotations

import numpy as np

from humal_nb.model_attention import ReviewAttention

BERTVIZ_NOTE = (
    "bertviz loads require.js, d3 and jQuery from cdnjs.cloudflare.com: its views render only "
    "with internet access (everything else in the explorer works offline)."
)


def bertviz_html(attention: ReviewAttention, view: str = "head", layer: int = -1) -> str:
    """bertviz's head view (the chosen layer, all heads) or model view (every layer and head)
    of one review through one model, as an HTML string (its scripts load d3 and jQuery from
    a CDN, see BERTVIZ_NOTE).

    Args:
        attention: `model_attention.review_attention(run_dir, words)`: [layers, heads, tokens, tokens].
        view: "head" or "model".
        layer: the head view's layer (-1 = last).
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
    return _safe_script(result.data)


_SCRIPT_OPEN = '<script type="text/javascript">'


def _safe_script(page: str) -> str:
    """bertviz writes the tokens as JSON into its last <script>; a token holding "</script>"
    would end it early. bertviz's own JavaScript has no "</", so every "</" in that script
    comes from the data and becomes the equivalent JSON escape "<\\/"."""
    head, sep, tail = page.rpartition(_SCRIPT_OPEN)
    if not sep:
        return page
    body, close, rest = tail.rpartition("</script>")
    return head + sep + body.replace("</", "<\\/") + close + rest

