"""The CUDA path: run where a GPU is (`scripts/gpu_check.sh`), skipped on CPU-only machines.

The efficient attention row equals the naive one on the GPU, a HuMAL-AL step trains under
bf16 autocast, a real run trains and evaluates on `cuda`, and a grid runs two cells at once
on the one GPU.
"""

from __future__ import annotations

import math

import pytest
import torch
from conftest import TINY_PAIR
from tiny_models import TOKENIZERS, tiny_model

from humal_nb.config import runs
from humal_nb.config.run_config import RunConfig
from humal_nb.experiments import grid
from humal_nb.experiments.train import autocast, make_optimizer, train_and_evaluate
from humal_nb.method.tokens import collate, encode_texts, padding_of

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CUDA = torch.device("cuda")
TINY = {**TINY_PAIR, "batch_size": 8, "device": "cuda"}


def _batch(family: str):
    tokenizer = TOKENIZERS[family]()
    words = [["the", "food", "was", "great"], ["slow", "service", "and", "cold", "food", "sadly"]]
    human = [[0, 1, 0, 1], [1, 1, 0, 0, 1, 0]]
    model = tiny_model(family)
    encoded = encode_texts(tokenizer, model.family, words, human, max_length=16)
    return model, collate(encoded, *padding_of(tokenizer))


@pytest.mark.parametrize("family", ["bert", "gpt2", "xlnet"])
def test_efficient_attention_equals_naive_on_the_gpu(family):
    model, batch = _batch(family)
    rows = {}
    for path in ("efficient", "naive"):
        other = tiny_model(family, attention_path=path).to(CUDA).eval()
        other.load_state_dict(model.state_dict())
        with torch.no_grad():
            out = other(**{k: v.to(CUDA) for k, v in batch.items() if k != "human_tokens"}, return_attention=True)
        rows[path] = out.machine_attention.float().cpu()
    assert torch.allclose(rows["efficient"], rows["naive"], atol=1e-4)


def test_an_al_step_trains_under_bf16_autocast():
    model, batch = _batch("bert")
    model.to(CUDA).train()
    optimizer = make_optimizer(model, 1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    with autocast(CUDA):
        out = model(**{k: v.to(CUDA) for k, v in batch.items()}, labels=torch.tensor([1, 0], device=CUDA))
    out.loss.backward()
    optimizer.step()
    assert math.isfinite(out.loss.item()) and out.attention_loss is not None
    assert any(not torch.equal(b, p.detach()) for b, p in zip(before, model.parameters()))


def test_a_real_run_on_cuda():
    result = train_and_evaluate(RunConfig(strategy="al", **TINY), progress=False)
    assert result.metrics["device"] == "cuda"
    assert math.isfinite(result.metrics["auc"]) and math.isfinite(result.metrics["attention"]["cosine_to_human"])


def test_a_grid_runs_two_cells_at_once_on_the_gpu(tmp_path):
    spec = {"name": "cuda", **TINY, "vary": {"strategy": ["baseline", "al"], "bootstrap": [0, 1]}}
    result = grid.run_grid(spec, workers=2, out_dir=tmp_path, progress=False, report=False)
    assert result["finished"] == 4 and result["failed"] == 0
    for name in grid.load_grid(spec).cell_names():
        assert runs.read_metrics(tmp_path / name)["device"] == "cuda"
