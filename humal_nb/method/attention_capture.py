"""The efficient attention row of the families added after BERT, GPT-2 and XLNet.

Two readers, chosen by `attention.Family.reader`:

- `interface` (DistilBERT, ModernBERT, Llama-style decoders): these models hand their
  query and key states, after rotary positions and any query/key norm are applied, to
  transformers' attention function (`ALL_ATTENTION_FUNCTIONS`). While one layer is
  recorded, its attention module names a capturing function that keeps the query, the
  keys, the mask the model built (padding, causal, sliding / local window) and the scaling
  and soft-capping it asks for, then calls the model's own kernel (sdpa or eager)
  unchanged. The classification token's row is formed from those: grouped key/value heads
  are expanded to the query heads as the model does (head i reads key head i // group).
- `softmax` (DeBERTa-v2/v3, MPNet): transformers has no fused kernel for these; every layer
  forms its full softmax anyway, including DeBERTa's c2p/p2c terms and MPNet's relative
  bias. A hook on the layer's attention-dropout module reads that softmax (before
  dropout) without asking the whole model for `output_attentions`.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from torch import nn
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS, AttentionInterface

from humal_nb.core.errors import ModelError

CAPTURE = "humal_capture"
KERNELS = ("sdpa", "eager")  # implementations whose masks the capturing reader understands


class _CapturingConfig:
    """An attention module's config, except that it names the capturing attention function."""

    _attn_implementation = CAPTURE

    def __init__(self, config: Any) -> None:
        object.__setattr__(self, "wrapped", config)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def _capturing_attention(module: nn.Module, query, key, value, attention_mask, **kwargs):
    """Keep what the row needs, then run the model's own attention kernel on the same inputs."""
    kernel = module.config.wrapped._attn_implementation
    if kernel not in KERNELS:
        raise ModelError(
            f"the efficient attention row reads sdpa or eager attention, but this "
            f"{module.config.wrapped.model_type!r} model uses {kernel!r}: load it with "
            "attn_implementation='sdpa' (or 'eager'), or use attention_path: naive with 'eager'."
        )
    for sink in module._humal_sinks:
        sink.update(query=query, key=key, mask=attention_mask, scaling=kwargs.get("scaling"),
                    softcap=kwargs.get("softcap"))
    default = getattr(sys.modules[type(module).__module__], "eager_attention_forward", None)
    if kernel == "eager" and default is None:
        raise ModelError(f"{type(module).__name__} has no eager attention function to run.")
    function = ALL_ATTENTION_FUNCTIONS.get_interface(kernel, default)
    return function(module, query, key, value, attention_mask, **kwargs)


AttentionInterface.register(CAPTURE, _capturing_attention)


class InterfaceCapture:
    """While alive, `module` (one layer's attention) runs through the capturing function and
    fills `sink` with `query` [b, heads, t, d], `key` [b, kv_heads, t, d], `mask`, `scaling`,
    `softcap`. `remove()` puts the module's own config back."""

    def __init__(self, module: nn.Module, sink: dict[str, Any]) -> None:
        self.module, self.sink, self.config = module, sink, module.config
        module.__dict__.setdefault("_humal_sinks", []).append(sink)
        module.config = _CapturingConfig(self.config)

    def remove(self) -> None:
        self.module.config = self.config
        sinks = self.module.__dict__.get("_humal_sinks", [])
        if self.sink in sinks:
            sinks.remove(self.sink)
        if not sinks:
            self.module.__dict__.pop("_humal_sinks", None)


def capture_softmax(module: nn.Module, sink: dict[str, Any]):
    """Hook the layer's attention dropout: its input is the layer's softmax [b, heads, t, t]."""
    dropout = getattr(module, "dropout", None)
    if not isinstance(dropout, nn.Dropout):
        raise ModelError(f"{type(module).__name__} has no attention dropout module to read the softmax from.")
    return dropout.register_forward_hook(lambda _module, args, _output: sink.__setitem__("probs", args[0]))


def _mask_row(mask: torch.Tensor, batch: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
    """[b, 1 or heads, t] the classification token's row of a 4-D attention mask."""
    if not isinstance(mask, torch.Tensor) or mask.dim() != 4:
        raise ModelError(
            f"the efficient attention row needs a 4-D attention mask (sdpa or eager), got {type(mask).__name__}; "
            "load the model with attn_implementation='sdpa' or 'eager'."
        )
    mask = mask.expand(batch.shape[0], -1, -1, -1) if mask.shape[0] == 1 else mask
    return mask[batch, :, cls, :] if mask.shape[2] > 1 else mask[:, :, 0, :]


def interface_row(
    sink: dict[str, Any], batch: torch.Tensor, cls: torch.Tensor, allowed: torch.Tensor
) -> torch.Tensor:
    """[batch, tokens] head-mean softmax of the classification token's captured scores.

    `allowed` [batch, tokens] is the family's padding (and causal) key mask; the model's own
    mask row (bool: kept keys; float: added to the scores, as eager attention does) narrows it
    further, e.g. to a sliding window.
    """
    if "query" not in sink:
        raise ModelError("the recorded attention layer did not run: no query/key states were captured.")
    query, key = sink["query"], sink["key"]
    b, heads, t, head_dim = query.shape
    groups = key.shape[1]
    dtype = torch.promote_types(key.dtype, torch.float32)  # bf16 -> fp32; fp32/fp64 as they are
    q = query[batch, :, cls].to(dtype).view(b, groups, heads // groups, head_dim)
    k = key.to(dtype)
    scaling = sink["scaling"] if sink["scaling"] is not None else head_dim**-0.5
    with torch.autocast(q.device.type, enabled=False):  # keep the scores in fp32 under bf16 autocast
        scores = torch.einsum("bgrd,bgtd->bgrt", q, k).reshape(b, heads, t) * scaling
        if sink["softcap"] is not None:
            scores = torch.tanh(scores / sink["softcap"]) * sink["softcap"]
        keep = allowed.unsqueeze(1)
        if sink["mask"] is not None:
            row = _mask_row(sink["mask"], batch, cls)
            if row.dtype == torch.bool:
                keep = keep & row
            else:
                scores = scores + row.to(dtype)
        scores = scores.masked_fill(~keep, float("-inf"))
        return torch.softmax(scores, dim=-1).mean(dim=1)


def softmax_row(sink: dict[str, Any], batch: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
    """[batch, tokens] head mean of the classification token's row of the hooked softmax."""
    if "probs" not in sink:
        raise ModelError("the recorded attention layer did not run: no softmax was captured.")
    probs = sink["probs"]
    return probs[batch, :, cls, :].mean(dim=1).to(torch.promote_types(probs.dtype, torch.float32))
