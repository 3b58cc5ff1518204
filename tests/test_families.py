"""The families added after BERT, GPT-2 and XLNet, each as a tiny random model of its own
transformers config class (no checkpoints of these families install offline here):
DistilBERT, DeBERTa-v2/v3, ModernBERT, MPNet and the Llama-style decoders (Llama, Qwen2,
Qwen3, Mistral, Gemma, Gemma-2, Gemma-3).

For each: the efficient row equals the head mean of the model's own eager attention row
(values and gradients, layers 0 and -1, padding on either side), AL training lowers the
attention loss, a saved classifier reloads through AutoModelForSequenceClassification and
predicts the same, and the explorer's `model_attention` reads every layer and head.
"""

from __future__ import annotations

import copy

import pytest
import torch
from fake_runs import metrics
from tiny_families import DECODERS, MODEL_TYPES, tiny_model, tokenizer_for
from transformers import AutoModel, AutoModelForSequenceClassification

from humal_nb.analyses import model_attention
from humal_nb.bench.families import random_batch, tiny_config
from humal_nb.config import runs
from humal_nb.core.errors import ModelError
from humal_nb.core.names import MODEL_DIR
from humal_nb.method.attention import AttentionRecorder, attention_layers, family_of, machine_attention
from humal_nb.method.losses import alignment_loss
from humal_nb.method.models import attention_kernel, build_model
from humal_nb.method.tokens import collate, encode_texts, padding_of

INIT = 0.8  # large initializer range: attention far from uniform
ROW_TOL = 1e-5
GRAD_TOL = 1e-4
TEXTS = [
    "the food was great and the staff friendly".split(),
    "terrible service never going back".split(),
    "unbelievably overpriced pasta".split(),
    "will definitely be going back to this place again".split(),
]
LABELS = torch.tensor([1, 0, 0, 1])


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread (and a busy machine's other cores stay free)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def backbone_pair(model_type: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    """A tiny random backbone with its default kernel (sdpa where it has one) and an eager copy."""
    config = tiny_config(model_type, init=INIT)
    torch.manual_seed(0)
    model = AutoModel.from_config(config, attn_implementation=attention_kernel(config, "sdpa")).eval()
    eager = copy.deepcopy(model)
    eager.set_attn_implementation("eager")
    return model, eager


def padded_batch(model_type: str, side: str) -> dict[str, torch.Tensor]:
    batch = random_batch(tiny_config(model_type), batch_size=4, seq_len=12, seed=1)
    if side != family_of(tiny_config(model_type)).padding_side:
        batch = {k: v.flip(-1) if v.dim() == 2 else v for k, v in batch.items()}
    return batch


def reference_row(eager: torch.nn.Module, model_type: str, batch: dict, layer: int) -> torch.Tensor:
    """Head mean of the eager model's own attention row of its classification token."""
    out = eager(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_attentions=True)
    probs = out.attentions[layer]
    real = [row.nonzero().flatten() for row in batch["attention_mask"]]
    last = family_of(eager.config).cls_last
    cls = torch.tensor([int(r.max()) if last else int(r.min()) for r in real])
    return probs[torch.arange(len(cls)), :, cls, :].mean(dim=1)


def grads(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p) for n, p in model.named_parameters()}


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("layer", [0, -1])
@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_efficient_row_and_gradients_equal_naive(model_type, layer, side):
    model, eager = backbone_pair(model_type)
    batch = padded_batch(model_type, side)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    with torch.no_grad():
        expected = reference_row(eager, model_type, batch, layer)
    efficient = machine_attention(model, ids, mask, layer=layer, path="efficient")
    naive = machine_attention(eager, ids, mask, layer=layer, path="naive")
    torch.testing.assert_close(efficient, expected, atol=ROW_TOL, rtol=0)
    torch.testing.assert_close(naive, expected, atol=ROW_TOL, rtol=0)
    assert (efficient - 1.0 / mask.sum(-1, keepdim=True)).abs().max() > 0.05  # far from uniform
    assert torch.all(efficient[mask == 0] == 0)
    torch.testing.assert_close(efficient.sum(-1), torch.ones(4))

    alignment_loss(efficient, batch["human_tokens"], mask).backward()
    alignment_loss(naive, batch["human_tokens"], mask).backward()
    eff_grads, naive_grads = grads(model), grads(eager)
    for name, value in naive_grads.items():
        torch.testing.assert_close(eff_grads[name], value, atol=GRAD_TOL, rtol=GRAD_TOL, msg=lambda m, n=name: f"{n}: {m}")
    assert sum(g.abs().sum() for g in eff_grads.values()) > 0


@pytest.mark.parametrize("model_type,layer,window", [("mistral", -1, 4), ("gemma3_text", 0, 4), ("modernbert", 1, 2)])
def test_sliding_window_layers_read_only_their_window(model_type, layer, window):
    """Mistral's window, Gemma-3's local layers (0 here) and ModernBERT's local layers (1 here:
    2 tokens either side) reach the efficient row through the mask the model builds."""
    model, _ = backbone_pair(model_type)
    batch = padded_batch(model_type, "right")
    mask = batch["attention_mask"]
    row = machine_attention(model, batch["input_ids"], mask, layer=layer)
    positions = torch.arange(mask.shape[1])
    cls = mask.sum(-1) - 1 if family_of(model.config).cls_last else torch.zeros(4, dtype=torch.long)
    distance = (positions.unsqueeze(0) - cls.unsqueeze(1)).abs()
    outside = distance >= window if family_of(model.config).cls_last else distance > window
    assert torch.all(row[outside] == 0) and torch.all(row[~outside & mask.bool()] > 0)


@pytest.mark.parametrize("model_type", ["distilbert", "modernbert", "llama", "gemma3_text"])
def test_efficient_path_keeps_the_fused_kernel_and_restores_the_model(model_type, monkeypatch):
    model, _ = backbone_pair(model_type)
    assert model.config._attn_implementation == "sdpa"
    configs = [module.config for module in attention_layers(model)]
    calls = []
    sdpa = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda *a, **k: calls.append(1) or sdpa(*a, **k))
    batch = padded_batch(model_type, "right")
    machine_attention(model, batch["input_ids"], batch["attention_mask"], layer=-1)
    assert len(calls) == len(configs)  # every layer ran the fused kernel
    assert [module.config for module in attention_layers(model)] == configs
    assert all(not hasattr(module, "_humal_sinks") for module in attention_layers(model))
    with pytest.raises(ModelError, match="attn_implementation='eager'"):
        machine_attention(model, batch["input_ids"], batch["attention_mask"], path="naive")


def test_an_unreadable_kernel_is_refused_with_what_to_set():
    """Flash and flex attention pass masks the row cannot read (none, or a block mask)."""
    from humal_nb.method.attention_capture import InterfaceCapture, _capturing_attention

    model, _ = backbone_pair("llama")
    module = attention_layers(model)[-1]
    capture = InterfaceCapture(module, {})
    model.config._attn_implementation = "flash_attention_2"
    q = torch.zeros(1, 4, 3, 8)
    with pytest.raises(ModelError, match="'llama' model uses 'flash_attention_2'.*attn_implementation='sdpa'"):
        _capturing_attention(module, q, q[:, :2], q[:, :2], None, scaling=1.0)
    capture.remove()
    assert module.config is model.config and not hasattr(module, "_humal_sinks")


@pytest.mark.parametrize("model_type", ["deberta-v2", "modernbert", "mpnet", "qwen3", "gemma2"])
def test_efficient_row_stays_fp32_under_bf16_autocast(model_type):
    model, _ = backbone_pair(model_type)
    batch = padded_batch(model_type, "right")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    with torch.no_grad():
        exact = machine_attention(model, ids, mask, layer=-1)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            row = machine_attention(model, ids, mask, layer=-1)
    assert row.dtype == torch.float32
    torch.testing.assert_close(row.sum(-1), torch.ones(4), atol=1e-2, rtol=0)
    torch.testing.assert_close(row, exact, atol=0.08, rtol=0)  # bf16 projections: ~3 significant digits


def test_models_without_sdpa_are_built_with_eager_attention():
    for model_type in ("deberta-v2", "mpnet", "gemma2"):
        assert attention_kernel(tiny_config(model_type), "sdpa") == "eager"
        assert tiny_model(model_type).backbone.config._attn_implementation == "eager"
    assert tiny_model("llama").backbone.config._attn_implementation == "sdpa"
    assert tiny_model("llama").backbone.config.use_cache is False


# ------------------------------------------------------------------ through the classifier
def text_batch(model_type: str, model) -> dict[str, torch.Tensor]:
    tokenizer = tokenizer_for(model_type)
    human = [[float(i % 3 == 0) + 0.5 * (i % 2) for i in range(len(ws))] for ws in TEXTS]
    encoded = encode_texts(tokenizer, model.family, TEXTS, [[v / sum(h) for v in h] for h in human])
    return collate(encoded, *padding_of(tokenizer))


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_text_batches_follow_the_family(model_type):
    tokenizer = tokenizer_for(model_type)
    family = family_of(tiny_config(model_type))
    encoded = encode_texts(tokenizer, family, TEXTS, max_length=12)
    for words, text in zip(TEXTS, encoded):
        assert (text.token_type_ids is not None) == (model_type == "deberta-v2")
        kept = [w for w in text.word_ids if w is not None]
        assert kept == sorted(kept) and kept[0] == 0  # every token of a word in order, from the first
        special = [i for i, w in enumerate(text.word_ids) if w is None]
        assert special == ([0] if family.cls_last else [0, len(text.word_ids) - 1])  # BOS / [CLS] ... [SEP]
        if len(text.input_ids) < 12:  # not truncated: every word has a token, spelled as the word
            assert set(kept) == set(range(len(words)))
            for w, word in enumerate(words):
                pieces = [t for t, i in zip(text.input_ids, text.word_ids) if i == w]
                assert tokenizer.decode(pieces).replace(" ##", "").strip() == word  # WordPiece joins with ##


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_al_training_lowers_the_attention_loss(model_type):
    model = tiny_model(model_type, "al")
    batch = text_batch(model_type, model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        out = model(**batch, labels=LABELS)
        losses.append(out.attention_loss.item())
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
    assert losses[-1] < losses[0] - 0.01, losses


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_saved_classifier_reloads_and_predicts_the_same(model_type, tmp_path):
    model = tiny_model(model_type, "an", init=0.2)
    batch = text_batch(model_type, model)
    plain = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch}
    before = model(**plain, return_attention=True)
    model.save_pretrained(tmp_path)
    auto = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    after = auto(**plain, return_attention=True)
    torch.testing.assert_close(after.logits, before.logits, atol=0, rtol=0)
    torch.testing.assert_close(after.machine_attention, before.machine_attention, atol=0, rtol=0)


@pytest.mark.parametrize("model_type", ["distilbert", "deberta-v2", "modernbert", "mpnet", "qwen3"])
def test_explorer_reads_every_layer_and_head(model_type, tmp_path):
    model = tiny_model(model_type, "al", init=0.2)
    tokenizer = tokenizer_for(model_type)
    model.save_pretrained(tmp_path / MODEL_DIR)
    tokenizer.save_pretrained(tmp_path / MODEL_DIR)
    runs.write_json(tmp_path / runs.METRICS_FILE, metrics("al", tmp_path, max_length=64))  # a finished run
    words = TEXTS[0]
    n_layers, n_heads = 2, 4
    assert model_attention.model_shape(tmp_path) == (n_layers, n_heads)
    review = model_attention.review_attention(tmp_path, words)
    assert review.attentions.shape[:2] == (n_layers, n_heads)
    assert review.cls == (len(review.tokens) - 1 if model.family.cls_last else 0)
    for layer in range(n_layers):
        for head in [*range(n_heads), None]:
            values = model_attention.layer_head_attention(tmp_path, words, layer, head)
            assert values.shape == (len(words),) and values.sum() == pytest.approx(1.0)
    # the explorer's eager layer -1 head mean is the classifier's own (efficient) row, per word
    from humal_nb.method.tokens import tokens_to_words

    batch = text_batch(model_type, model)
    row = model(input_ids=batch["input_ids"][:1], attention_mask=batch["attention_mask"][:1],
                **({"token_type_ids": batch["token_type_ids"][:1]} if "token_type_ids" in batch else {}),
                return_attention=True).machine_attention[0]
    real = batch["attention_mask"][0].bool()
    expected = tokens_to_words(row[real].detach().numpy(), review.word_ids, len(words))
    assert model_attention.layer_head_attention(tmp_path, words, -1, None) == pytest.approx(expected, abs=1e-5)
    assert model_attention.rollout_attention(tmp_path, words).sum() == pytest.approx(1.0)
    readings = model_attention.readings(str(tmp_path.resolve()), (tuple(words), tuple(TEXTS[2])))
    assert readings["last"][0] == pytest.approx(expected, abs=1e-5)  # batched with padding: the same row
    model_attention.clear_caches()


def test_family_table_and_unsupported_types():
    for model_type in MODEL_TYPES:
        family = family_of(tiny_config(model_type))
        assert family.cls_last == (model_type in DECODERS) and family.reader in ("interface", "softmax")
    with pytest.raises(ModelError, match="'t5' is not supported.*deberta-v2.*qwen3"):
        family_of(type("Config", (), {"model_type": "t5"})())
    assert AttentionRecorder(backbone_pair("mpnet")[0]).forward_kwargs == {}  # efficient: no output_attentions


def test_a_local_folder_of_a_new_family_loads_offline(tmp_path):
    """`build_model` takes a folder with config.json and weights, as a checkpoint from the Hugging Face
    cache would be; here the folder holds a tiny random Qwen3 saved by transformers."""
    config = tiny_config("qwen3")
    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(tmp_path)
    tokenizer_for("qwen3").save_pretrained(tmp_path)
    model = build_model(str(tmp_path), strategy="al")
    assert model.family.name == "decoder" and model.backbone.config._attn_implementation == "sdpa"
    from humal_nb.method.models import load_tokenizer

    tokenizer = load_tokenizer(str(tmp_path))
    assert tokenizer.padding_side == "right" and tokenizer.pad_token_id is not None


def test_bench_families_prints_a_ratio_per_family(capsys):
    from humal_nb.bench.families import run_families_bench
    from humal_nb.cli import commands as cli

    assert cli.build_parser().parse_args(["bench", "--families"]).families
    results = run_families_bench(["llama"], repeats=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("ratio_al_vs_baseline[llama]=") and float(lines[-1].split("=")[1]) > 0
    assert lines[-2].startswith("ratio_naive_vs_baseline[llama]=")
    assert results["llama"]["family"] == "decoder" and results["llama"]["kernel"] == "sdpa"
    assert torch.get_num_threads() == 1  # restored to this module's setting


def test_byte_level_decoders_see_the_space_before_each_word():
    """Qwen2's real tokenizer pipeline (its split regex and byte-level BPE, no prefix space), built
    offline from a tiny vocabulary: the decoder family tokenizes the joined text, so each word after
    the first starts with the space token 'Ġ' as in pre-training; the pre-split words (BERT's way)
    would lose it. Human attention still lands on each word's tokens."""
    from tokenizers import pre_tokenizers
    from transformers import Qwen2Tokenizer

    from humal_nb.method.attention import _FAMILY_SPECS

    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    tokenizer = Qwen2Tokenizer(vocab={**vocab, "Ġf": len(vocab)}, merges=[("Ġ", "f")])
    words = ["The", "food", "was", "great!"]
    joined = encode_texts(tokenizer, _FAMILY_SPECS["decoder"], [words], [[0.0, 1.0, 0.0, 0.0]])[0]
    split = encode_texts(tokenizer, _FAMILY_SPECS["bert"], [words], [[0.0, 1.0, 0.0, 0.0]])[0]
    tokens = tokenizer.convert_ids_to_tokens(joined.input_ids)
    firsts = [tokens[joined.word_ids.index(w)] for w in range(len(words))]
    assert firsts == ["T", "Ġf", "Ġ", "Ġ"]
    assert "Ġ" not in tokenizer.convert_ids_to_tokens(split.input_ids)
    assert [h > 0 for h in joined.human] == [w == 1 for w in joined.word_ids]
