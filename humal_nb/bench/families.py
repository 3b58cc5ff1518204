"""`humal-nb bench --families`: the AL / plain step ratio on a tiny random model of each family.

No weights for the later families (DistilBERT, DeBERTa-v2/v3, ModernBERT, MPNet, Llama-style
decoders) install from the package registries here, so each family is built from its
transformers config class with random weights (`tiny_config`): 2 layers, hidden 64, 4 heads
(2 key/value heads for the decoders), a batch of 8 random token sequences of up to 64
tokens padded on the family's side. The same tiny configs (hidden 32) are the test models
of `tests/test_families.py`.

Per model type, warm training steps (forward + backward + AdamW, as `humal-nb bench`) of
`baseline` (no attention read), `al_efficient` and `al_naive` take turns; the lines
`ratio_al_vs_baseline[TYPE]=X` and `ratio_naive_vs_baseline[TYPE]=X` give the median ratios.
A tiny model's step is dominated by fixed per-layer costs, so its ratios say what reading the
row adds to a small step, not what it costs on a real checkpoint.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import AutoConfig, PretrainedConfig

from humal_nb.method.attention import family_of

_ENCODER = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                max_position_embeddings=64)
_DECODER = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                intermediate_size=64, max_position_embeddings=64, bos_token_id=0, eos_token_id=0, pad_token_id=0)
#: model type -> its tiny config's settings (hidden 32; `tiny_config` scales the width)
TINY: dict[str, dict[str, Any]] = {
    "distilbert": dict(vocab_size=120, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64,
                       pad_token_id=0),
    "deberta-v2": dict(  # DeBERTa-v3's settings: shared relative keys, log buckets, c2p and p2c
        _ENCODER, vocab_size=120, relative_attention=True, pos_att_type=["p2c", "c2p"], position_buckets=8,
        max_relative_positions=16, norm_rel_ebd="layer_norm", share_att_key=True, position_biased_input=False,
        type_vocab_size=0, pad_token_id=0),
    "modernbert": dict(  # layer 0 global, layer 1 local with a window of 4 tokens
        _ENCODER, vocab_size=300, local_attention=4, global_attn_every_n_layers=2, pad_token_id=0,
        bos_token_id=1, eos_token_id=2, cls_token_id=1, sep_token_id=2),
    "mpnet": dict(_ENCODER, vocab_size=120, pad_token_id=0, max_position_embeddings=130),  # positions from pad + 1
    "llama": dict(_DECODER, vocab_size=300),
    "qwen2": dict(_DECODER, vocab_size=300),
    "qwen3": dict(_DECODER, vocab_size=300, head_dim=8),  # q/k norms
    "mistral": dict(_DECODER, vocab_size=300, sliding_window=4),
    "gemma": dict(_DECODER, vocab_size=300, head_dim=8),
    "gemma2": dict(_DECODER, vocab_size=300, head_dim=8, sliding_window=4, query_pre_attn_scalar=8,
                   attn_logit_softcapping=5.0),  # eager only: soft-capped scores
    "gemma3_text": dict(_DECODER, vocab_size=300, head_dim=8, sliding_window=4, query_pre_attn_scalar=8,
                        layer_types=["sliding_attention", "full_attention"]),
}
_WIDTH_KEYS = ("hidden_size", "dim")
_INNER_KEYS = ("intermediate_size", "hidden_dim")


def tiny_config(model_type: str, init: float = 0.02, hidden: int = 32) -> PretrainedConfig:
    """A tiny random-weight config of `model_type` (one of `TINY`), `hidden` wide."""
    values = dict(TINY[model_type])
    for key in _WIDTH_KEYS:
        if key in values:
            values[key] = hidden
    for key in _INNER_KEYS:
        if key in values:
            values[key] = 2 * hidden
    return AutoConfig.for_model(model_type, initializer_range=init, **values)


def random_batch(config: PretrainedConfig, batch_size: int = 8, seq_len: int = 64, seed: int = 0
                 ) -> dict[str, torch.Tensor]:
    """Random token ids of varied lengths padded on the family's side, random human attention
    over the real tokens, random labels."""
    family = family_of(config)
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(seq_len // 2, seq_len + 1, (batch_size,), generator=gen)
    lengths[0] = seq_len
    ids = torch.randint(5, config.vocab_size, (batch_size, seq_len), generator=gen)
    positions = torch.arange(seq_len).expand(batch_size, seq_len)
    if family.padding_side == "left":
        mask = positions >= (seq_len - lengths).unsqueeze(1)
    else:
        mask = positions < lengths.unsqueeze(1)
    pad = getattr(config, "pad_token_id", None) or 0
    ids = ids.masked_fill(~mask, pad)
    human = torch.rand(batch_size, seq_len, generator=gen) * mask
    return {"input_ids": ids, "attention_mask": mask.long(), "human_tokens": human / human.sum(-1, keepdim=True),
            "labels": torch.randint(0, 2, (batch_size,), generator=gen)}


def bench_family(model_type: str, repeats: int = 5, steps_per_round: int = 2, warmup: int = 2,
                 seed: int = 0) -> dict[str, Any]:
    """Time baseline, AL efficient and AL naive steps on a tiny random `model_type` (CPU)."""
    from humal_nb.bench.runner import bench_device
    from humal_nb.method.models import HumalConfig, HumalForSequenceClassification

    config = tiny_config(model_type, hidden=64)
    torch.manual_seed(seed)
    model = HumalForSequenceClassification(HumalConfig(base_config=config.to_dict(), strategy="al"))
    result = bench_device(model, random_batch(config, seed=seed), torch.device("cpu"), repeats=repeats,
                          steps_per_round=steps_per_round, warmup=warmup)
    result["family"] = family_of(config).name
    result["kernel"] = model.backbone.config._attn_implementation
    result["reader"] = family_of(config).reader
    return result


def run_families_bench(model_types: list[str] | None = None, repeats: int = 5) -> dict[str, dict[str, Any]]:
    """Bench every tiny family (or `model_types`); print a table and one ratio line per type."""
    from humal_nb.core.quiet import quiet_transformers

    results = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model's step is fastest, and steadiest, on one thread
    try:
        with quiet_transformers():
            for model_type in model_types or list(TINY):
                results[model_type] = bench_family(model_type, repeats=repeats)
    finally:
        torch.set_num_threads(threads)
    print("humal-nb bench --families: tiny random models (2 layers, hidden 64), batch 8 x 64 tokens, CPU, 1 thread, "
          f"torch {torch.__version__}; median ms per training step (forward + backward + AdamW)")
    print(f"  {'model type':<12} {'family':<11} {'kernel':<7} {'baseline':>9} {'AL eff.':>9} {'AL naive':>9}"
          f" {'eff/base':>9} {'naive/base':>11}")
    for model_type, res in results.items():
        med = res["median_ms"]
        print(f"  {model_type:<12} {res['family']:<11} {res['kernel']:<7} {med['baseline']:>9.2f}"
              f" {med['al_efficient']:>9.2f} {med['al_naive']:>9.2f} {res['ratio_al_vs_baseline']:>8.3f}x"
              f" {res['ratio_naive_vs_baseline']:>10.3f}x")
    noisy = sum(res["noisy_steps"] for res in results.values())
    total = sum(len(steps) for res in results.values() for steps in res["steps_ms"].values())
    if noisy:
        print(f"  note: {noisy} of {total} steps took over 1.5x their variant's fastest step (other load on the "
              "machine); a quiet machine gives firmer ratios.")
    for model_type, res in results.items():
        print(f"ratio_naive_vs_baseline[{model_type}]={res['ratio_naive_vs_baseline']:.4f}")
        print(f"ratio_al_vs_baseline[{model_type}]={res['ratio_al_vs_baseline']:.4f}")
    return results
