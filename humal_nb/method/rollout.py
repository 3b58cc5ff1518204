"""Attention rollout (Abnar & Zuidema 2020): machine attention read through all the layers.

Eq. 1 of the paper reads one layer: the classification token's row, averaged over the
heads. Rollout follows the attention down through every layer, with the residual
connection counted as attention to oneself:

- per layer l, the head-averaged attention A_l plus the identity, rows renormalized:
  Ã_l = (A_l + I) / rowsum (rows of A_l sum to 1, so Ã_l = (A_l + I) / 2);
- multiplied through the layers, first layer innermost: R = Ã_L · ... · Ã_2 · Ã_1;
- the classification token's row of R: how much of what reaches the classification
  token at the top comes from each input token. It sums to 1 over the real tokens.

The token row is mapped to words with `tokens.tokens_to_words` (sub-words summed,
special tokens dropped, renormalized over the words), as the saved eq. 1 attention is.

Families (see `attention.py`): BERT-family encoders read the first token's row, with
right padding; GPT-2 (a BOS token prepended, causal attention) and XLNet (left padding)
read the last real token's row. Texts are batched longest first; each text's attention
is cut to its real tokens before the product, so padding never enters a row. A long
`word_readings` shows a progress bar over the texts, named and shown as `progress_as` says
(its callers reach it through a cache, `model_attention.readings`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from humal_nb.config.run_config import DEFAULTS
from humal_nb.core import names
from humal_nb.core import progress as progress_mod
from humal_nb.core.errors import DataFormatError, ModelError
from humal_nb.core.progress import progress_as  # noqa: F401 - also rollout.progress_as
from humal_nb.method.attention import Family, backbone_of, family_of
from humal_nb.method.tokens import collate, encode_texts, padding_of, tokens_to_words

READINGS = names.READINGS  # what `word_readings` returns per text
# ---------------------------------------------------------------------- the matrices
def _layers(attentions: npt.ArrayLike) -> np.ndarray:
    """[layers, tokens, tokens] head-averaged attention from [layers, heads, T, T] or [layers, T, T]."""
    arr = np.asarray(attentions, dtype=np.float64)
    if arr.ndim == 4:
        arr = arr.mean(axis=1)
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2]:
        raise DataFormatError(
            f"rollout needs [layers, heads, tokens, tokens] or [layers, tokens, tokens] attention, got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)) or (arr.size and arr.min() < 0):
        raise DataFormatError("rollout needs finite, non-negative attention weights.")
    return arr


def rollout_matrix(attentions: npt.ArrayLike, residual: bool = True) -> np.ndarray:
    """The rolled-out attention R = Ã_L · ... · Ã_1 of one text.

    Args:
        attentions: [layers, heads, tokens, tokens] (heads are averaged) or
            [layers, tokens, tokens], first layer first; rows are queries.
        residual: add the identity to each layer before renormalizing the rows
            (Abnar & Zuidema's residual correction); False multiplies the raw matrices.
    Returns:
        [tokens, tokens]: row i = how token i at the top draws on each input token.
        A row that sums to 0 (a fully masked query) stays 0.
    """
    layers = _layers(attentions)
    eye = np.eye(layers.shape[1])
    result = eye
    for layer in layers:
        mixed = layer + eye if residual else layer
        sums = mixed.sum(axis=-1, keepdims=True)
        mixed = np.divide(mixed, sums, out=np.zeros_like(mixed), where=sums > 0)
        result = mixed @ result
    return result


def rollout_row(attentions: npt.ArrayLike, cls: int, residual: bool = True) -> np.ndarray:
    """[tokens] the classification token's row of `rollout_matrix` (sums to 1 over the tokens)."""
    matrix = rollout_matrix(attentions, residual=residual)
    if not -matrix.shape[0] <= cls < matrix.shape[0]:
        raise DataFormatError(f"classification token {cls} is outside the text's {matrix.shape[0]} tokens.")
    return matrix[cls]


def rollout_words(
    attentions: npt.ArrayLike, cls: int, word_ids: Sequence[int | None], n_words: int, residual: bool = True
) -> np.ndarray:
    """[n_words] rollout word attention: the row of `rollout_row` summed per word (tokens_to_words)."""
    return tokens_to_words(rollout_row(attentions, cls, residual), word_ids, n_words)


def cls_position(family: Family, n_tokens: int) -> int:
    """The classification token's position among a text's real tokens: first (BERT) or last."""
    return n_tokens - 1 if family.cls_last else 0


# ---------------------------------------------------------------------- through a model
@contextmanager
def eager_attention(backbone: torch.nn.Module) -> Iterator[None]:
    """Switch a backbone to the eager attention kernel (the one that returns attention
    matrices) for the block, and back afterwards."""
    before = getattr(backbone.config, "_attn_implementation", None)
    switch = before not in (None, "eager") and hasattr(backbone, "set_attn_implementation")
    if switch:
        backbone.set_attn_implementation("eager")
    try:
        yield
    finally:
        if switch:
            backbone.set_attn_implementation(before)


def _text_readings(layers: np.ndarray, family: Family, word_ids: list[int | None], n_words: int) -> dict[str, np.ndarray]:
    """One text's first-layer, last-layer (head means, eq. 1) and rollout word attention."""
    cls = cls_position(family, layers.shape[-1])
    return {
        "first": tokens_to_words(layers[0, cls], word_ids, n_words),
        "last": tokens_to_words(layers[-1, cls], word_ids, n_words),
        "rollout": rollout_words(layers, cls, word_ids, n_words),
    }


@torch.no_grad()
def word_readings(
    model: torch.nn.Module,
    tokenizer: Any,
    words_list: Sequence[Sequence[str]],
    max_length: int = DEFAULTS["max_length"],
    batch_size: int = 16,
    precision: str = "fp32",
) -> dict[str, list[np.ndarray]]:
    """The classification token's word attention of each text, read three ways.

    Args:
        model: a HuMAL classifier (or a Hugging Face BERT-family / GPT-2 / XLNet model),
            in eval mode; its backbone is switched to eager attention for the call.
        tokenizer: its fast tokenizer (padding side set to the family's).
        words_list: the texts as word lists.
        max_length: the run's max_length (tokens, special tokens included).
        batch_size: texts per forward pass (batched longest first).
        precision: the forward pass's arithmetic, `fp32`, `bf16` or `auto` (`inference.autocast`);
            the attention is read in fp32 either way.
    Returns:
        {"first": ..., "last": ..., "rollout": ...}: per text an [n_words] array summing
        to 1: the first and last layer's head-mean row (eq. 1) and the rollout row.
    """
    from humal_nb.core.progress import labelled_bar
    from humal_nb.method.inference import autocast

    backbone = backbone_of(model)
    family = family_of(backbone.config)
    encoded = encode_texts(tokenizer, family, words_list, max_length=max_length)
    device = next(model.parameters()).device
    out: dict[str, list[np.ndarray]] = {name: [np.zeros(0)] * len(encoded) for name in READINGS}
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i].input_ids))
    desc, progress = progress_mod.bar_label("rollout")
    with eager_attention(backbone), labelled_bar(len(order), desc, progress, unit="review") as bar:
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            batch = collate([encoded[i] for i in index], *padding_of(tokenizer))
            batch.pop("human_tokens")
            batch = {k: v.to(device) for k, v in batch.items()}
            with autocast(device, precision):
                result = backbone(**batch, output_attentions=True)
            if not result.attentions:
                raise ModelError(f"{type(backbone).__name__} returned no attention matrices; rollout needs them.")
            stacked = torch.stack([a.float() for a in result.attentions], dim=1).mean(dim=2)  # [batch, L, T, T]
            for row, i in enumerate(index):
                real = batch["attention_mask"][row].bool()
                layers = stacked[row][:, real][:, :, real].double().cpu().numpy()
                readings = _text_readings(layers, family, encoded[i].word_ids, encoded[i].n_words)
                for name in READINGS:
                    out[name][i] = readings[name]
            bar.update(len(index))
    return out


__all__ = [
    "READINGS",
    "cls_position",
    "eager_attention",
    "progress_as",
    "rollout_matrix",
    "rollout_row",
    "rollout_words",
    "word_readings",
]
