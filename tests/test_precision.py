"""`precision: fp32 | bf16`: validated, recorded, bf16 autocast on the CPU only when asked,
refused on a CPU without native bf16, and bench's fp32 vs bf16 line (tiny models, fast)."""

from __future__ import annotations

import re
from contextlib import nullcontext

import pytest
import torch
from conftest import TINY_PAIR
from tiny_models import CORPUS, base_config, wordpiece_tokenizer

from humal_nb.bench import runner as bench
from humal_nb.config.run_config import RunConfig
from humal_nb.core.errors import ParameterError
from humal_nb.core.names import PRECISIONS
from humal_nb.experiments import train
from humal_nb.method import inference
from humal_nb.method.models import HumalConfig, HumalForSequenceClassification
from humal_nb.method.tokens import encode_texts

CPU = torch.device("cpu")
# a run of a few seconds: 24 reviews, one epoch of one batch, 32 tokens
TINIEST = {**TINY_PAIR, "max_length": 32, "device": "cpu", "save_model": False}
bf16_cpu = pytest.mark.skipif(not train.cpu_has_bf16(), reason="this CPU has no native bf16")


def tiny_humal() -> HumalForSequenceClassification:
    torch.manual_seed(0)
    return HumalForSequenceClassification(HumalConfig(base_config=base_config("bert").to_dict(), strategy="al"))


def tiny_batch(model: HumalForSequenceClassification) -> dict[str, torch.Tensor]:
    words = [text.split() for text in CORPUS[:4]]
    human = [[1.0 / len(w)] * len(w) for w in words]
    return bench.review_batch(wordpiece_tokenizer(), model.family, words, human, [1, 0, 1, 0], seq_len=16)


def test_precision_is_a_validated_parameter_defaulting_to_fp32():
    assert PRECISIONS == ("fp32", "bf16") and RunConfig().precision == "fp32"
    assert RunConfig(precision="bf16").precision == "bf16"
    with pytest.raises(ParameterError, match="'precision' is 'fp16'; valid values: 'fp32', 'bf16'"):
        RunConfig(precision="fp16")


def test_fp32_on_cpu_is_no_autocast_at_all_and_cuda_keeps_bf16():
    assert isinstance(train.autocast(CPU), nullcontext)
    assert isinstance(train.autocast(CPU, "fp32"), nullcontext)
    assert train.effective_precision(CPU, "fp32") == "fp32"
    assert train.effective_precision(CPU, "bf16") == "bf16"
    # CUDA trains under bf16 autocast whatever `precision` says (today's behaviour)
    assert train.effective_precision(torch.device("cuda"), "fp32") == "bf16"


def test_bf16_on_cpu_autocasts_the_forward_pass():
    model = tiny_humal().eval()
    batch = tiny_batch(model)
    batch.pop("labels")
    seen: dict[str, torch.dtype] = {}
    model.classifier.register_forward_hook(lambda module, args, out: seen.update(head=out.dtype))
    with torch.no_grad(), train.autocast(CPU, "bf16"):
        out = model(**batch, return_attention=True)
    assert seen["head"] == torch.bfloat16
    assert torch.isfinite(out.logits.float()).all() and out.machine_attention.dtype == torch.float32
    with torch.no_grad(), train.autocast(CPU, "fp32"):
        model(**batch)
    assert seen["head"] == torch.float32


def test_bf16_is_refused_before_training_on_a_cpu_without_native_bf16(monkeypatch):
    monkeypatch.setattr(inference, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(train, "build_model", lambda *a, **k: pytest.fail("a model was built"))
    monkeypatch.setattr(train, "load_reviews", lambda *a, **k: pytest.fail("the data was read"))
    with pytest.raises(ParameterError, match="no native bf16.*Use precision: fp32"):
        train.train_and_evaluate(RunConfig(precision="bf16", **TINIEST), progress=False)
    train.check_precision("fp32", CPU)  # fp32 is never refused
    train.check_precision("bf16", torch.device("cuda"))  # nor bf16 on CUDA


def test_humal_nb_run_refuses_bf16_before_any_kernel_starts(tmp_path, capsys, monkeypatch):
    from humal_nb.cli import commands as cli
    from humal_nb.experiments import notebooks

    monkeypatch.setattr(inference, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(notebooks, "execute_notebook", lambda *a, **k: pytest.fail("a notebook was executed"))
    params = tmp_path / "run.yaml"
    params.write_text("strategy: al\ndevice: cpu\n")
    out = tmp_path / "out"
    assert cli.main(["run", str(params), "-p", "precision=bf16", "--out", str(out)]) == 2
    assert "no native bf16" in capsys.readouterr().err and not out.exists()


def _spy_autocast(monkeypatch) -> list[tuple[str, bool]]:
    """Record (precision, whether no autocast at all) of every `autocast` call: training's
    (`train.autocast`) and prediction's (`inference.autocast`, the same function)."""
    calls: list[tuple[str, bool]] = []
    real = train.autocast

    def spy(device: torch.device, precision: str = "fp32"):
        context = real(device, precision)
        calls.append((precision, isinstance(context, nullcontext)))
        return context

    monkeypatch.setattr(train, "autocast", spy)
    monkeypatch.setattr(inference, "autocast", spy)
    return calls


@pytest.mark.trains
def test_fp32_training_and_prediction_use_no_autocast(monkeypatch):
    calls = _spy_autocast(monkeypatch)
    model = tiny_humal()
    words = [text.split() for text in CORPUS[:4]]
    encoded = encode_texts(wordpiece_tokenizer(), model.family, words, [[1.0] * len(w) for w in words])
    config = RunConfig(batch_size=4, epochs=1, device="cpu")
    train.train_model(model, wordpiece_tokenizer(), encoded, [1, 0, 1, 0], config, CPU, progress=False)
    probs, _ = train.predict(model, wordpiece_tokenizer(), encoded, CPU)
    assert len(probs) == 4 and calls == [("fp32", True)] * 2


@bf16_cpu
@pytest.mark.trains
def test_a_bf16_run_trains_and_predicts_in_bf16_and_records_it(yelp_df, monkeypatch):
    calls = _spy_autocast(monkeypatch)
    metrics = train.run_experiment(RunConfig(precision="bf16", **TINIEST), progress=False, reviews=yelp_df)
    assert metrics["precision"] == metrics["parameters"]["precision"] == "bf16"
    assert 0.0 <= metrics["auc"] <= 1.0 and metrics["history"][0]["ce_loss"] > 0
    assert calls == [("bf16", False)] * 2  # one training batch, one prediction batch
    fp32 = train.run_metrics(RunConfig(), {"auc": 0.5, "accuracy": 0.5, "f1": 0.0, "attention": {}},
                             yelp_df.head(4), yelp_df.head(2), [], 0.0, CPU)
    assert fp32["precision"] == fp32["parameters"]["precision"] == "fp32"


@bf16_cpu
def test_bench_times_fp32_against_bf16_round_robin(capsys):
    model = tiny_humal()
    result = bench.bench_precision(model, tiny_batch(model), repeats=2, steps_per_round=1, warmup=1)
    assert set(result["median_ms"]) == {"fp32", "bf16"}
    assert all(len(steps) == 2 for steps in result["steps_ms"].values())
    assert result["ratio_fp32_vs_bf16"] == pytest.approx(result["median_ms"]["fp32"] / result["median_ms"]["bf16"])
    lines = bench.precision_lines(result)
    assert re.fullmatch(r"ratio_fp32_vs_bf16=[0-9]+\.[0-9]{4}", lines[-1])
    assert float(lines[-1].split("=")[1]) == pytest.approx(result["ratio_fp32_vs_bf16"], abs=1e-4)


def test_bench_puts_the_precision_line_just_before_the_last_line():
    report = ["table", "ratio_naive_vs_baseline=1.5", "ratio_al_vs_baseline=1.1"]
    timed = {"median_ms": {"fp32": 30.0, "bf16": 20.0}, "min_ms": {"fp32": 30.0, "bf16": 20.0},
             "steps_ms": {"fp32": [30.0], "bf16": [20.0]}, "ratio_fp32_vs_bf16": 1.5}
    lines = bench._with_precision(report, {"cpu": {"precision": timed}})
    assert lines[-2] == "ratio_fp32_vs_bf16=1.5000" and lines[-1] == "ratio_al_vs_baseline=1.1"
    untimed = bench._with_precision(report, {"cpu": {"precision": None}})
    assert "no native bf16" in untimed[-2] and untimed[-1] == report[-1]
    assert not any(line.startswith("ratio_fp32") for line in untimed)
    assert bench._with_precision(report, {"cuda": {}}) == report
