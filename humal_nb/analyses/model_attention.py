"""A saved run's model read on any review: every layer's and head's attention, rollout, and
all three readings of a whole test set (the explorer's layer/head selectors, bertviz views,
rollout and faithfulness).

The run is a finished one (`run.Run`), whose saved model is loaded once per process
(`Run.load_model`); each review's attention is computed once and cached (`clear_caches`
forgets both, e.g. after a run is trained again). A test set's three readings are also kept
in the run folder (`readings_cache.json`, `model_cache`), so a second report reads them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humal_nb.config import runs
from humal_nb.core.errors import DataFormatError, ParameterError
from humal_nb.core.names import READINGS, READINGS_CACHE_FILE
from humal_nb.experiments.run import Run, clear_model_cache


@dataclass
class ReviewAttention:
    """One review through a saved model: its tokens and every layer's attention.

    `attentions`: [layers, heads, tokens, tokens] float32; `cls`: the classification
    token's position; `word_ids`: word index per token (None for special tokens).
    """

    tokens: list[str]
    word_ids: list[int | None]
    n_words: int
    attentions: np.ndarray
    cls: int

    @property
    def cls_rows(self) -> np.ndarray:
        """[layers, heads, tokens] the classification token's attention rows."""
        return self.attentions[:, :, self.cls, :]


def model_shape(run_dir: str | Path) -> tuple[int, int] | None:
    """(layers, heads) of a run's saved model, read from `model/config.json`; None without a model."""
    path = Path(run_dir) / runs.MODEL_DIR / "config.json"
    if not path.is_file():
        return None
    config = json.loads(path.read_text())
    base = config.get("base_config") or config
    layers = base.get("num_hidden_layers") or base.get("n_layer") or base.get("n_layers")  # n_layers: DistilBERT
    heads = base.get("num_attention_heads") or base.get("n_head") or base.get("n_heads")
    return (int(layers), int(heads)) if layers and heads else None


@functools.lru_cache(maxsize=16)
def _review_attention(run_dir: str, words: tuple[str, ...]) -> ReviewAttention:
    import torch

    from humal_nb.method.attention import cls_index
    from humal_nb.method.rollout import eager_attention

    run = Run.open(run_dir)
    model = run.load_model()
    encoded = run.encode([list(words)])[0]
    ids = torch.tensor([encoded.input_ids])
    mask = torch.ones_like(ids)
    extra = {} if encoded.token_type_ids is None else {"token_type_ids": torch.tensor([encoded.token_type_ids])}
    with torch.no_grad(), eager_attention(model.backbone):  # output_attentions needs the eager kernel
        out = model.backbone(input_ids=ids, attention_mask=mask, output_attentions=True, **extra)
    if not out.attentions:
        raise DataFormatError(f"the model in {run_dir} returned no attention matrices.")
    attentions = torch.stack([a[0] for a in out.attentions]).float().numpy()
    return ReviewAttention(
        tokens=run.tokenizer.convert_ids_to_tokens(encoded.input_ids),
        word_ids=list(encoded.word_ids),
        n_words=encoded.n_words,
        attentions=attentions,
        cls=int(cls_index(model.family, mask)[0]),
    )


def review_attention(run_dir: str | Path, words: list[str]) -> ReviewAttention:
    """Every layer's attention for one review through a finished run's saved model (cached per review)."""
    if not words:
        raise DataFormatError("the review has no words.")
    return _review_attention(str(Path(run_dir).resolve()), tuple(str(w) for w in words))


def layer_head_attention(run_dir: str | Path, words: list[str], layer: int = -1, head: int | None = None) -> np.ndarray:
    """Word-level attention of the classification token at one layer and head.

    Args:
        run_dir: a finished run folder with a saved `model/`.
        words: the review's words (as in `attention.json`).
        layer: layer index, -1 = last (the paper's A^m_last).
        head: head index, or None for the mean over the layer's heads (paper eq. 1).
    Returns:
        [words] float array summing to 1: sub-word values summed per word and
        renormalized (the same rule as the saved `machine` attention, which it equals for
        layer -1, head None).
    """
    from humal_nb.method.tokens import tokens_to_words

    attention = review_attention(run_dir, words)
    n_layers, n_heads = attention.attentions.shape[:2]
    if not -n_layers <= layer < n_layers:
        raise ParameterError(f"layer {layer} does not exist: the model has {n_layers} layers (0..{n_layers - 1}).")
    if head is not None and not 0 <= head < n_heads:
        raise ParameterError(f"head {head} does not exist: each layer has {n_heads} heads (0..{n_heads - 1}).")
    rows = attention.cls_rows[layer]
    row = rows.mean(axis=0) if head is None else rows[head]
    return tokens_to_words(row, attention.word_ids, attention.n_words)


def rollout_attention(run_dir: str | Path, words: list[str]) -> np.ndarray:
    """One review's attention rollout (humal_nb.method.rollout) as word attention, from the cached
    all-layer attention of `review_attention`."""
    from humal_nb.method.rollout import rollout_words

    attention = review_attention(run_dir, words)
    return rollout_words(attention.attentions, attention.cls, attention.word_ids, attention.n_words)


def readings(run_dir: str, words: tuple[tuple[str, ...], ...], precision: str = "fp32",
             cache: bool = True) -> dict[str, list[np.ndarray]]:
    """Every review's first-layer, last-layer and rollout word attention through a finished run's
    saved model (`rollout.word_readings`, batched, on the CPU in `precision`: `fp32`, `bf16` or
    `auto`), kept in this process and in the run folder (`readings_cache.json`, `model_cache`:
    keyed by the model's weights, max_length, device and precision); only reviews found in
    neither run through the model."""
    import torch

    from humal_nb.method.inference import check_precision, effective_precision

    cpu = torch.device("cpu")
    check_precision(precision, cpu)
    return _readings(str(Path(run_dir).resolve()), words, effective_precision(cpu, precision), cache)


@functools.lru_cache(maxsize=4)
def _readings(run_dir: str, words: tuple[tuple[str, ...], ...], precision: str,
              cache: bool) -> dict[str, list[np.ndarray]]:
    from humal_nb.method.model_cache import KeyedCache, cache_fields, cache_key, text_key

    run = Run.open(run_dir)
    fields = (run.require_model(check_files=False), "readings", run.config.max_length, "cpu", precision)
    store = KeyedCache(Path(run_dir) / READINGS_CACHE_FILE if cache else None, cache_key(*fields), cache_fields(*fields))
    keys = [text_key(w) for w in words]
    missing = store.missing(keys)
    if missing:  # only then the model (and transformers) is loaded
        from humal_nb.method.rollout import word_readings

        computed = word_readings(run.load_model(), run.tokenizer, [list(words[i]) for i in missing],
                                 max_length=run.config.max_length, precision=precision)
        for n, i in enumerate(missing):
            store.entries[keys[i]] = {name: computed[name][n].tolist() for name in READINGS}
        store.save()
    return {name: [np.asarray(store.entries[key][name], dtype=np.float64) for key in keys] for name in READINGS}


def clear_caches() -> None:
    """Forget loaded models and computed review attention (e.g. after re-training a run)."""
    _review_attention.cache_clear()
    clear_model_cache()
    _readings.cache_clear()
