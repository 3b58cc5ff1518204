"""A classifier's forward pass without human attention: the device, the arithmetic, `predict`.

What training's evaluation and every reader of a finished run (`run.Run.predict`, export,
faithfulness) share, so that reading a run needs no training code and computes the same
numbers as the run's own test evaluation.

The precision policy lives here and only here (training imports it):

- CUDA always runs bf16 autocast, whatever the precision asks (every GPU number was
  measured so);
- on a CPU, `fp32` runs no autocast at all and `bf16` runs bf16 autocast; `bf16` is
  refused on a CPU without native bf16 (`check_precision`), where it would be emulated;
- `auto` (what `humal-nb compare`, `humal-nb predict` and the compare notebook default to)
  is bf16 where it is native (CUDA, a CPU with AVX512-BF16 or AMX) and fp32 elsewhere.
  Training's `precision` parameter takes `fp32` (its default) or `bf16`, never `auto`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from humal_nb.core.errors import ParameterError
from humal_nb.core.names import DEFAULT_INFERENCE_PRECISION, INFERENCE_PRECISIONS  # noqa: F401 - also inference.<name>

if TYPE_CHECKING:  # the models and tokens modules import transformers: loaded where a model runs
    from humal_nb.method.models import HumalForSequenceClassification
    from humal_nb.method.tokens import EncodedText

#: told after each batch of `predict_probs`: the texts it held
BatchCallback = Callable[[int], None]


def resolve_device(name: str = "auto") -> torch.device:
    """CUDA when available (or asked for), else CPU."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device 'cuda' was asked for, but no CUDA GPU is available; use 'auto' or 'cpu'.")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


@functools.lru_cache(maxsize=1)
def _mkldnn_bf16() -> bool:
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def cpu_has_bf16() -> bool:
    """Whether this CPU runs bf16 natively (oneDNN with AVX512-BF16 or AMX), so that bf16
    autocast is faster than fp32 rather than emulated and slower."""
    return _mkldnn_bf16()


def _check_choice(precision: str) -> None:
    if precision not in INFERENCE_PRECISIONS:
        raise ParameterError(f"precision {precision!r} is unknown; valid values: {', '.join(INFERENCE_PRECISIONS)}.")


def effective_precision(device: torch.device, precision: str = "fp32") -> str:
    """What `autocast(device, precision)` computes in, "fp32" or "bf16": bf16 on CUDA always;
    on a CPU `precision`, with `auto` read as bf16 where the CPU has native bf16, else fp32."""
    _check_choice(precision)
    if device.type == "cuda":
        return "bf16"
    if precision == "auto":
        return "bf16" if cpu_has_bf16() else "fp32"
    return precision


def check_precision(precision: str, device: torch.device) -> None:
    """Refuse an unknown precision, and `bf16` on a CPU without native bf16, before any model runs."""
    _check_choice(precision)
    if precision == "bf16" and device.type == "cpu" and not cpu_has_bf16():
        raise ParameterError(
            "parameter 'precision' is 'bf16', but this CPU has no native bf16 arithmetic (oneDNN "
            "reports no AVX512-BF16 or AMX support), so bf16 would be emulated: slower than fp32 and "
            "less exact. Use precision: fp32 on this machine, or run on a CPU with AVX512-BF16/AMX or on CUDA."
        )


def autocast(device: torch.device, precision: str = "fp32") -> Any:
    """The forward pass's arithmetic (`effective_precision`): bf16 autocast, or no autocast at
    all for fp32 (the default)."""
    if effective_precision(device, precision) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def index_batches(order: list[int], batch_size: int) -> Iterator[list[int]]:
    """`order` cut into consecutive batches of `batch_size` indices (the last may be shorter)."""
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """A collated batch's tensors on `device`."""
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def _sorted_batches(
    tokenizer: Any, encoded: list[EncodedText], device: torch.device, batch_size: int
) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
    """(indices, collated batch on `device`) of `encoded` sorted longest first (a stable sort),
    without human attention, so a batch pads only to its own longest text."""
    from humal_nb.method import tokens

    by_length = sorted(range(len(encoded)), key=lambda i: -len(encoded[i].input_ids))
    for index in index_batches(by_length, batch_size):
        batch = tokens.collate([encoded[i] for i in index], *tokens.padding_of(tokenizer))
        batch.pop("human_tokens")  # predicting: the model sees no human attention
        yield index, to_device(batch, device)


@torch.no_grad()
def predict(
    model: HumalForSequenceClassification,
    tokenizer: Any,
    encoded: list[EncodedText],
    device: torch.device,
    batch_size: int = 64,
    precision: str = "fp32",
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Probabilities of label 1 and the last layer's token attention per text (no human input),
    in the order of `encoded`. The texts are batched longest first, so a batch pads little.
    `precision`: the forward pass's arithmetic (`autocast`)."""
    from humal_nb.method import tokens

    model.to(device).eval()
    probs = np.zeros(len(encoded))
    rows: list[np.ndarray] = [np.zeros(0)] * len(encoded)
    for index, batch in _sorted_batches(tokenizer, encoded, device, batch_size):
        with autocast(device, precision):
            out = model(**batch, return_attention=True)
        probs[index] = torch.softmax(out.logits.float(), dim=-1)[:, 1].cpu().numpy()
        for i, row in zip(index, tokens.unpad(out.machine_attention, batch["attention_mask"])):
            rows[i] = row
    return probs, rows


@torch.inference_mode()  # no autograd bookkeeping at all: the same numbers as no_grad, a little faster
def predict_probs(
    model: HumalForSequenceClassification,
    tokenizer: Any,
    encoded: list[EncodedText],
    device: torch.device,
    batch_size: int = 64,
    precision: str = "fp32",
    on_batch: BatchCallback | None = None,
) -> np.ndarray:
    """Probabilities of label 1 only (no attention row returned), in the order of `encoded`:
    the texts sorted once by length, longest first, and run in batches of `batch_size`;
    `on_batch(texts in it)` after each batch (e.g. a progress bar)."""
    model.to(device).eval()
    probs = np.zeros(len(encoded))
    for index, batch in _sorted_batches(tokenizer, encoded, device, batch_size):
        with autocast(device, precision):
            logits = model(**batch).logits
        probs[index] = torch.softmax(logits.float(), dim=-1)[:, 1].cpu().numpy()
        if on_batch is not None:
            on_batch(len(index))
    return probs


__all__ = [
    "DEFAULT_INFERENCE_PRECISION",
    "INFERENCE_PRECISIONS",
    "autocast",
    "check_precision",
    "cpu_has_bf16",
    "effective_precision",
    "index_batches",
    "predict",
    "predict_probs",
    "resolve_device",
    "to_device",
]
