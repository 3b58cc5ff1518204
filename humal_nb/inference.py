"""A classifier's forward pass without human attention: the device, the arithmetic, `predict`.

What training's evaluation and every reader of a finished run (`run.Run.predict`, export,
faithfulness) share, so that reading a run needs no training code and computes the same
numbers as the run's own test evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext

import numpy as np
import torch

from humal_nb.errors import ParameterError
from humal_nb.models import HumalForSequenceClassification
from humal_nb.tokens import EncodedText, collate, padding_of, unpad


def resolve_device(name: str = "auto") -> torch.device:
    """CUDA when available (or asked for), else CPU."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device 'cuda' was asked for, but no CUDA GPU is available; use 'auto' or 'cpu'.")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def autocast(device: torch.device, precision: str = "fp32"):
    """The forward pass's arithmetic: bf16 autocast on CUDA whatever `precision` says (CUDA
    runs have always trained so, and its GPU numbers were measured so); on a CPU, bf16
    autocast for `precision` "bf16", and no autocast at all for "fp32" (the default)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def index_batches(order: list[int], batch_size: int) -> Iterator[list[int]]:
    """`order` cut into consecutive batches of `batch_size` indices (the last may be shorter)."""
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """A collated batch's tensors on `device`."""
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@torch.no_grad()
def predict(
    model: HumalForSequenceClassification,
    tokenizer,
    encoded: list[EncodedText],
    device: torch.device,
    batch_size: int = 64,
    precision: str = "fp32",
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Probabilities of label 1 and the last layer's token attention per text (no human input),
    in the order of `encoded`. The texts are batched longest first, so a batch pads little.
    `precision`: the forward pass's arithmetic (`autocast`)."""
    model.to(device).eval()
    probs = np.zeros(len(encoded))
    rows: list[np.ndarray] = [np.zeros(0)] * len(encoded)
    by_length = sorted(range(len(encoded)), key=lambda i: -len(encoded[i].input_ids))
    for index in index_batches(by_length, batch_size):
        batch = collate([encoded[i] for i in index], *padding_of(tokenizer))
        batch.pop("human_tokens")  # predicting: the model sees no human attention
        batch = to_device(batch, device)
        with autocast(device, precision):
            out = model(**batch, return_attention=True)
        probs[index] = torch.softmax(out.logits.float(), dim=-1)[:, 1].cpu().numpy()
        for i, row in zip(index, unpad(out.machine_attention, batch["attention_mask"])):
            rows[i] = row
    return probs, rows


__all__ = ["autocast", "index_batches", "predict", "resolve_device", "to_device"]
