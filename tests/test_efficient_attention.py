"""The efficient attention path (hooks on query/key, fused SDPA kept) equals the naive one.

For tiny random BERT, GPT-2 and XLNet models with far-from-uniform attention (large
`initializer_range`, eval mode), the classification-token row that the efficient path
forms from the captured projections must equal the head mean of the model's own
`output_attentions` row (eager copy of the same weights), and the gradients of an
alignment loss must be the same on both paths, for layers 0 and -1 and for padding on
either side. The same holds through `HumalForSequenceClassification` (AL and AP).
"""

from __future__ import annotations

import copy
import functools

import pytest
import torch
from tiny_models import TOKENIZERS, base_config
from transformers import AutoModel

from humal_nb.core.errors import ModelError
from humal_nb.method.attention import AttentionRecorder, machine_attention
from humal_nb.method.losses import alignment_loss
from humal_nb.method.models import HumalConfig, HumalForSequenceClassification
from humal_nb.method.tokens import collate, encode_texts

INIT = 0.8  # large initializer range: attention far from uniform
LENGTHS = [11, 7, 4, 9]
# (family, padding side): the family's own side, and BERT also padded on the other side.
CASES = [("bert", "right"), ("bert", "left"), ("gpt2", "right"), ("xlnet", "left")]
LAYERS = [0, -1]
ROW_TOL = 1e-5
GRAD_TOL = 1e-4


def tiny_backbone(family: str, seed: int = 0) -> torch.nn.Module:
    """A tiny random backbone with the library's default attention (sdpa where supported)."""
    torch.manual_seed(seed)
    return AutoModel.from_config(base_config(family, init=INIT)).eval()


def eager_copy(model: torch.nn.Module) -> torch.nn.Module:
    """The same weights with the eager attention kernel (which can return attentions)."""
    clone = copy.deepcopy(model)
    clone.set_attn_implementation("eager")
    return clone


def random_batch(family: str, side: str, seed: int = 1) -> dict[str, torch.Tensor]:
    """Random ids padded on `side`, with a random human attention over the real tokens."""
    gen = torch.Generator().manual_seed(seed)
    vocab = base_config(family).vocab_size
    length = max(LENGTHS)
    ids = torch.randint(5, vocab, (len(LENGTHS), length), generator=gen)
    mask = torch.zeros(len(LENGTHS), length, dtype=torch.long)
    for row, n in enumerate(LENGTHS):
        if side == "right":
            mask[row, :n] = 1
        else:
            mask[row, length - n :] = 1
    human = torch.rand(len(LENGTHS), length, generator=gen) * mask
    return {"input_ids": ids, "attention_mask": mask, "human": human / human.sum(-1, keepdim=True)}


def reference_row(eager: torch.nn.Module, family: str, batch: dict, layer: int) -> torch.Tensor:
    """Head mean of the eager model's own attention row of its classification token."""
    out = eager(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_attentions=True)
    probs = out.attentions[layer]  # [batch, heads, tokens, tokens]
    real = [row.nonzero().flatten() for row in batch["attention_mask"]]
    cls = torch.tensor([int(r.max()) if family in ("gpt2", "xlnet") else int(r.min()) for r in real])
    return probs[torch.arange(len(cls)), :, cls, :].mean(dim=1)


def grads(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter's gradient (zeros where none reached it)."""
    return {
        name: p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
        for name, p in model.named_parameters()
    }


def assert_same_grads(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=GRAD_TOL, rtol=GRAD_TOL, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.parametrize("family,side", CASES)
@pytest.mark.parametrize("layer", LAYERS)
def test_efficient_row_and_gradients_equal_naive(family, side, layer):
    model = tiny_backbone(family)
    eager = eager_copy(model)
    batch = random_batch(family, side)
    ids, mask = batch["input_ids"], batch["attention_mask"]

    with torch.no_grad():
        expected = reference_row(eager, family, batch, layer)
    efficient = machine_attention(model, ids, mask, layer=layer, path="efficient")
    naive = machine_attention(eager, ids, mask, layer=layer, path="naive")
    torch.testing.assert_close(efficient, expected, atol=ROW_TOL, rtol=0)
    torch.testing.assert_close(naive, expected, atol=ROW_TOL, rtol=0)
    assert (efficient - 1.0 / mask.sum(-1, keepdim=True)).abs().max() > 0.05  # far from uniform
    assert torch.all(efficient[mask == 0] == 0)
    torch.testing.assert_close(efficient.sum(-1), torch.ones(len(LENGTHS)))

    alignment_loss(efficient, batch["human"], mask).backward()
    alignment_loss(naive, batch["human"], mask).backward()
    eff_grads, naive_grads = grads(model), grads(eager)
    assert_same_grads(eff_grads, naive_grads)
    assert sum(g.abs().sum() for g in eff_grads.values()) > 0


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_efficient_path_keeps_fused_attention(family, monkeypatch):
    """No output_attentions, the sdpa kernel in every layer; naive refuses an sdpa model."""
    model = tiny_backbone(family)
    assert model.config._attn_implementation == "sdpa"
    batch = random_batch(family, "right")
    seen_kwargs: list[dict] = []
    model.register_forward_pre_hook(lambda m, args, kwargs: seen_kwargs.append(dict(kwargs)), with_kwargs=True)
    calls = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def counting_sdpa(*args, **kwargs):
        calls.append(1)
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", counting_sdpa)
    row = machine_attention(model, batch["input_ids"], batch["attention_mask"], layer=-1, path="efficient")
    assert not seen_kwargs[-1].get("output_attentions")
    assert len(calls) == model.config.num_hidden_layers  # every layer ran the fused kernel
    assert model.config._attn_implementation == "sdpa"
    with torch.no_grad():
        torch.testing.assert_close(row, reference_row(eager_copy(model), family, batch, -1), atol=ROW_TOL, rtol=0)

    with pytest.raises(ModelError, match="attn_implementation='eager'"):
        machine_attention(model, batch["input_ids"], batch["attention_mask"], layer=-1, path="naive")


def test_xlnet_reads_eager_probabilities_on_both_paths():
    model = tiny_backbone("xlnet")
    assert AttentionRecorder(model, path="efficient").path == "naive"  # no fused kernel to keep
    assert AttentionRecorder(model, path="efficient").forward_kwargs == {"output_attentions": True}


def test_unknown_path_and_layer_are_refused():
    model = tiny_backbone("bert")
    with pytest.raises(ValueError, match="attention path 'fast'"):
        AttentionRecorder(model, path="fast")
    with pytest.raises(ValueError, match="layer 5 does not exist"):
        AttentionRecorder(model, layer=5)


# ------------------------------------------------------------------ through the classifier
TEXTS = [
    "the food was great and the staff friendly".split(),
    "terrible service never going back".split(),
    "unbelievably overpriced pasta".split(),
    "will definitely be going back to this place again".split(),
]
LABELS = torch.tensor([1, 0, 0, 1])


def humal_pair(family: str, strategy: str) -> tuple[HumalForSequenceClassification, HumalForSequenceClassification]:
    """The same weights on the efficient path (sdpa) and on the naive path (eager)."""
    base = base_config(family, init=INIT).to_dict()
    torch.manual_seed(0)
    efficient = HumalForSequenceClassification(HumalConfig(base_config=base, strategy=strategy)).eval()
    naive = HumalForSequenceClassification(
        HumalConfig(base_config=base, strategy=strategy, attention_path="naive")
    ).eval()
    naive.load_state_dict(efficient.state_dict())
    return efficient, naive


@functools.cache
def tokenizer_for(family: str):
    return TOKENIZERS[family]()


def text_batch(family: str, model: HumalForSequenceClassification) -> dict[str, torch.Tensor]:
    tokenizer = tokenizer_for(family)
    human = [[float(i % 3 == 0) + 0.5 * (i % 2) for i in range(len(ws))] for ws in TEXTS]
    human = [[v / sum(h) for v in h] for h in human]
    encoded = encode_texts(tokenizer, model.family, TEXTS, human)
    return collate(encoded, tokenizer.pad_token_id, tokenizer.padding_side)


@pytest.mark.parametrize("family", ["bert", "gpt2", "xlnet"])
@pytest.mark.parametrize("strategy", ["al", "ap"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_classifier_losses_and_gradients_equal_on_both_paths(family, strategy, dtype):
    """Same weights, efficient (sdpa) vs naive (eager): same losses, rows and gradients.

    The cross-entropy gradient runs through the whole random network, where float32
    rounding differences between the sdpa and eager kernels grow with the large weights,
    so float32 gradients are compared relative to each tensor's scale; float64 shows the
    two paths compute the same function (agreement to ~1e-13).
    """
    efficient, naive = humal_pair(family, strategy)
    expected_attn = "eager" if family == "xlnet" else "sdpa"
    assert efficient.backbone.config._attn_implementation == expected_attn
    assert naive.backbone.config._attn_implementation == "eager"
    efficient.to(dtype)
    naive.to(dtype)
    batch = text_batch(family, efficient)
    batch["human_tokens"] = batch["human_tokens"].to(dtype)
    assert batch["attention_mask"].min() == 0  # some padding in the batch

    outs = [m(**batch, labels=LABELS, return_attention=True) for m in (efficient, naive)]
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    for name in ("loss", "ce_loss", "attention_loss"):
        torch.testing.assert_close(getattr(outs[0], name), getattr(outs[1], name), atol=tol, rtol=tol)
    torch.testing.assert_close(outs[0].machine_attention, outs[1].machine_attention, atol=tol, rtol=0)
    assert outs[0].attention_loss > 0.05

    for out in outs:
        out.loss.backward()
    eff_grads, naive_grads = grads(efficient), grads(naive)
    for name, expected in naive_grads.items():
        scale = max(1.0, float(expected.abs().max()))
        atol = GRAD_TOL * scale if dtype == torch.float32 else 1e-10 * scale
        torch.testing.assert_close(eff_grads[name], expected, atol=atol, rtol=0, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_efficient_row_stays_fp32_under_bf16_autocast(family):
    """Under autocast (bf16 on CUDA; CPU autocast stands in here) the projections are bf16,
    but the row's scores and softmax run in fp32: the row is fp32, sums to 1 and is close to
    the fp32 row."""
    model = tiny_backbone(family)
    batch = random_batch(family, "right")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    with torch.no_grad():
        exact = machine_attention(model, ids, mask, layer=-1)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            row = machine_attention(model, ids, mask, layer=-1)
    assert row.dtype == torch.float32
    torch.testing.assert_close(row.sum(-1), torch.ones(len(LENGTHS)), atol=1e-6, rtol=0)
    torch.testing.assert_close(row, exact, atol=0.05, rtol=0)  # bf16 projections: ~3 significant digits
