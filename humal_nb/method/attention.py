"""Machine attention A^m_{j,l} (paper eq. 1): the classification token's attention row.

For review j and layer l, A^m_{j,l}[i] is the attention the classification token pays to
token i, averaged over the heads of layer l. Two ways to read it:

- `efficient` (default): forward hooks capture the query and key projections that the
  layer computes anyway, and only the classification token's row is formed from them.
  Every layer keeps the fused scaled-dot-product attention kernel.
- `naive`: ask the model for `output_attentions`, which forces the eager kernel in every
  layer and keeps every layer's full attention matrices.

Both give the same numbers in eval mode (tests compare them). In training mode the
efficient row is the softmax before attention dropout, while `naive` reads what the model
returns, which is after attention dropout. XLNet's relative attention has no fused
kernel, so both ways read its eager attention probabilities.

The families added later (DistilBERT, DeBERTa-v2/v3, ModernBERT, MPNet, Llama-style
decoders) form their efficient row in `humal_nb.method.attention_capture` (`Family.reader`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from humal_nb.core.errors import ModelError
from humal_nb.core.names import ATTENTION_PATHS
from humal_nb.method import attention_capture

FAMILIES = ("bert", "gpt2", "xlnet", "distilbert", "deberta-v2", "modernbert", "mpnet", "decoder")
BERT_TYPES = ("bert", "roberta", "electra", "xlm-roberta", "camembert", "ernie")
# Llama-style decoders: rotary positions, grouped-query heads, the last real token classifies.
DECODER_TYPES = ("llama", "qwen2", "qwen3", "mistral", "gemma", "gemma2", "gemma3_text")


@dataclass(frozen=True)
class Family:
    """How one model family places its classification token and exposes attention."""

    name: str
    cls_last: bool  # classification token is the last real token (GPT-2, XLNet)
    causal: bool
    padding_side: str
    prepend_bos: bool
    # how the efficient row is formed: "projections" (hooks on the q/k projections, here),
    # "naive" (eager probabilities either way), "interface" / "softmax" (attention_capture)
    reader: str = "projections"
    split_words: bool = True  # tokenize the pre-split words (else the joined text, by offsets)
    segment_ids: bool = True  # the backbone takes the tokenizer's token_type_ids


_FAMILY_SPECS = {
    "bert": Family("bert", cls_last=False, causal=False, padding_side="right", prepend_bos=False),
    "gpt2": Family("gpt2", cls_last=True, causal=True, padding_side="right", prepend_bos=True),
    "xlnet": Family("xlnet", cls_last=True, causal=False, padding_side="left", prepend_bos=False, reader="naive"),
    "distilbert": Family("distilbert", cls_last=False, causal=False, padding_side="right", prepend_bos=False,
                         reader="interface", segment_ids=False),
    "deberta-v2": Family("deberta-v2", cls_last=False, causal=False, padding_side="right", prepend_bos=False,
                         reader="softmax"),
    "modernbert": Family("modernbert", cls_last=False, causal=False, padding_side="right", prepend_bos=False,
                         reader="interface", split_words=False, segment_ids=False),
    "mpnet": Family("mpnet", cls_last=False, causal=False, padding_side="right", prepend_bos=False,
                    reader="softmax", segment_ids=False),
    "decoder": Family("decoder", cls_last=True, causal=True, padding_side="right", prepend_bos=False,
                      reader="interface", split_words=False, segment_ids=False),
}
SUPPORTED = (
    "BERT-family encoders with absolute positions (" + ", ".join(BERT_TYPES) + "), distilbert, deberta-v2 "
    "(DeBERTa v2/v3), modernbert, mpnet, gpt2, xlnet and Llama-style decoders (" + ", ".join(DECODER_TYPES) + ")"
)


def family_of(config) -> Family:
    """The family of a Hugging Face config, or a ModelError saying what is supported."""
    model_type = getattr(config, "model_type", "")
    if model_type in ("gpt2",):
        return _FAMILY_SPECS["gpt2"]
    if model_type == "xlnet":
        return _FAMILY_SPECS["xlnet"]
    if model_type in ("distilbert", "deberta-v2", "modernbert", "mpnet"):
        return _FAMILY_SPECS[model_type]
    if model_type in DECODER_TYPES:
        return _FAMILY_SPECS["decoder"]
    if model_type in BERT_TYPES:
        if getattr(config, "position_embedding_type", "absolute") not in (None, "absolute"):
            raise ModelError(
                f"model type {model_type!r} with position_embedding_type="
                f"{config.position_embedding_type!r} is not supported: its attention row "
                "depends on relative positions. Use a model with absolute positions."
            )
        return _FAMILY_SPECS["bert"]
    raise ModelError(
        f"model type {model_type!r} is not supported: humal_nb reads the classification "
        f"token's attention of {SUPPORTED}."
    )


def attention_layers(backbone: nn.Module) -> list[nn.Module]:
    """The self-attention module of every layer, first to last."""
    family = family_of(backbone.config)
    if family.name == "bert":
        encoder = getattr(backbone, "encoder", None)
        layers = getattr(encoder, "layer", None)
        if layers is None:
            raise ModelError(f"{type(backbone).__name__} has no encoder.layer list to read attention from.")
        return [layer.attention.self for layer in layers]
    if family.name == "gpt2":
        return [block.attn for block in backbone.h]
    if family.name == "xlnet":
        return [layer.rel_attn for layer in backbone.layer]
    return _later_family_layers(family, backbone)


def _later_family_layers(family: Family, backbone: nn.Module) -> list[nn.Module]:
    """The attention module of every layer of the families read by `attention_capture`."""
    if family.name == "distilbert":
        return [layer.attention for layer in backbone.transformer.layer]
    if family.name == "deberta-v2":
        return [layer.attention.self for layer in backbone.encoder.layer]
    if family.name == "mpnet":
        return [layer.attention.attn for layer in backbone.encoder.layer]
    if family.name == "modernbert":
        return [layer.attn for layer in backbone.layers]
    return [layer.self_attn for layer in backbone.layers]  # Llama-style decoders


def cls_index(family: Family, attention_mask: torch.Tensor) -> torch.Tensor:
    """[batch] position of the classification token (first or last real token).

    BERT family: the first real token (position 0 with right padding, after the padding
    with left padding); GPT-2 / XLNet: the last real token. A row without real tokens
    falls back to position 0 (first) or the last position (last).
    """
    batch, length = attention_mask.shape
    positions = torch.arange(length, device=attention_mask.device).expand(batch, length)
    real = attention_mask.bool()
    if family.cls_last:
        return torch.where(real, positions, -1).max(dim=-1).values
    first = torch.where(real, positions, length).min(dim=-1).values
    return first.masked_fill(first == length, 0)


def key_mask(family: Family, attention_mask: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
    """[batch, tokens] bool: the keys the classification token may attend to."""
    allowed = attention_mask.bool()
    if family.causal:
        positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
        allowed = allowed & (positions.unsqueeze(0) <= cls.unsqueeze(1))
    return allowed


def _resolve_layer(n_layers: int, layer: int) -> int:
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer {layer} does not exist: the model has {n_layers} layers.")
    return layer % n_layers


class AttentionRecorder:
    """Records the classification-token attention row of one layer during a forward pass.

    Use `with recorder.record(attention_mask):` around the backbone call, then `row()`.
    """

    def __init__(self, backbone: nn.Module, layer: int = -1, path: str = "efficient") -> None:
        if path not in ATTENTION_PATHS:
            raise ValueError(f"attention path {path!r} is unknown; use 'efficient' or 'naive'.")
        self.backbone = backbone
        self.family = family_of(backbone.config)
        modules = attention_layers(backbone)
        self.layer = _resolve_layer(len(modules), layer)
        self.module = modules[self.layer]
        # XLNet has no fused kernel: its eager probabilities are read either way.
        self.path = "naive" if self.family.name == "xlnet" else path
        self._captured: dict[str, torch.Tensor] = {}
        self._attention_mask: torch.Tensor | None = None

    @property
    def forward_kwargs(self) -> dict:
        """Extra keyword arguments the backbone call needs for this path."""
        return {"output_attentions": True} if self.path == "naive" else {}

    @contextmanager
    def record(self, attention_mask: torch.Tensor) -> Iterator[AttentionRecorder]:
        self._captured = {}
        self._attention_mask = attention_mask
        handles = []
        if self.path == "efficient":
            if self.family.reader == "interface":
                handles.append(attention_capture.InterfaceCapture(self.module, self._captured))
            elif self.family.reader == "softmax":
                handles.append(attention_capture.capture_softmax(self.module, self._captured))
            elif self.family.name == "bert":
                handles.append(self.module.query.register_forward_hook(self._hook("query")))
                handles.append(self.module.key.register_forward_hook(self._hook("key")))
            else:
                handles.append(self.module.c_attn.register_forward_hook(self._hook("qkv")))
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def _hook(self, name: str):
        def hook(module, args, output):
            self._captured[name] = output

        return hook

    def row(self, outputs=None) -> torch.Tensor:
        """[batch, tokens] head-mean attention of the classification token (eq. 1)."""
        mask = self._attention_mask
        cls = cls_index(self.family, mask)
        batch = torch.arange(mask.shape[0], device=mask.device)
        if self.path == "naive":
            attentions = getattr(outputs, "attentions", None)
            if not attentions:
                raise ModelError(
                    "the model returned no attention matrices; load it with "
                    "attn_implementation='eager' to use the naive attention path."
                )
            probs = attentions[self.layer]  # [batch, heads, tokens, tokens]
            return probs[batch, :, cls, :].mean(dim=1)
        if self.family.reader == "interface":
            return attention_capture.interface_row(self._captured, batch, cls, key_mask(self.family, mask, cls))
        if self.family.reader == "softmax":
            return attention_capture.softmax_row(self._captured, batch, cls)
        heads = _num_heads(self.module)
        if self.family.name == "bert":
            query, key = self._captured["query"], self._captured["key"]
        else:
            embed = self.module.embed_dim
            query, key = self._captured["qkv"][..., :embed], self._captured["qkv"][..., embed : 2 * embed]
        b, t, width = key.shape
        dtype = torch.promote_types(key.dtype, torch.float32)  # bf16 -> fp32; fp32/fp64 as they are
        q = query[batch, cls].view(b, heads, width // heads).to(dtype)
        k = key.view(b, t, heads, width // heads).to(dtype)
        allowed = key_mask(self.family, mask, cls)
        with torch.autocast(q.device.type, enabled=False):  # keep the scores in fp32 under bf16 autocast
            scores = torch.einsum("bhd,bthd->bht", q, k) * _scaling(self.module, width // heads)
            scores = scores.masked_fill(~allowed.unsqueeze(1), float("-inf"))
            return torch.softmax(scores, dim=-1).mean(dim=1)


def _num_heads(module: nn.Module) -> int:
    for name in ("num_attention_heads", "num_heads", "n_head"):
        if hasattr(module, name):
            return int(getattr(module, name))
    return int(module.config.num_attention_heads)


def _scaling(module: nn.Module, head_dim: int) -> float:
    scaling = getattr(module, "scaling", None)
    return float(scaling) if scaling is not None else head_dim**-0.5


def backbone_of(model: nn.Module) -> nn.Module:
    """The transformer body of a HuMAL model or of any Hugging Face model."""
    if hasattr(model, "backbone"):
        return model.backbone
    base = getattr(model, "base_model", None)
    return base if base is not None else model


def machine_attention(
    model: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    layer: int = -1,
    path: str = "efficient",
    token_type_ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """Paper eq. 1 for one layer: [batch, tokens], differentiable.

    Args:
        model: a HuMAL classifier or a Hugging Face model of a family in `FAMILIES`.
        input_ids: [batch, tokens] token ids (padding on the family's side).
        attention_mask: [batch, tokens] 1 for real tokens, 0 for padding.
        layer: layer index, -1 = last, 0 = first.
        path: "efficient" (hooks, fused attention) or "naive" (output_attentions).
        token_type_ids: [batch, tokens] segment ids where the tokenizer gives them, or None.
    """
    backbone = backbone_of(model)
    recorder = AttentionRecorder(backbone, layer=layer, path=path)
    with recorder.record(attention_mask):
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        outputs = backbone(input_ids=input_ids, attention_mask=attention_mask, **extra, **recorder.forward_kwargs)
    return recorder.row(outputs)
