"""The benchmark's machinery on tiny random models (no timing assertions: speed lives in
`humal-nb bench` itself, which times the real model)."""

from __future__ import annotations

import math
import re

import pytest
import torch
from tiny_models import CORPUS, base_config, wordpiece_tokenizer
from transformers import BertConfig, BertForSequenceClassification, BertModel

from humal_nb.bench import runner as bench
from humal_nb.cli import commands as cli
from humal_nb.method.models import HumalConfig, HumalForSequenceClassification

LAST_LINE = re.compile(r"^ratio_al_vs_baseline=[0-9.]+$")
SEQ = 16


def tiny_humal() -> HumalForSequenceClassification:
    torch.manual_seed(0)
    return HumalForSequenceClassification(HumalConfig(base_config=base_config("bert").to_dict(), strategy="al"))


def tiny_batch(model: HumalForSequenceClassification) -> dict[str, torch.Tensor]:
    words = [text.split() for text in CORPUS[:4]]
    human = [[1.0 / len(w)] * len(w) for w in words]
    return bench.review_batch(wordpiece_tokenizer(), model.family, words, human, [1, 0, 1, 0], seq_len=SEQ)


def test_review_batch_is_padded_to_exactly_the_sequence_length():
    batch = tiny_batch(tiny_humal())
    assert set(batch) == {"input_ids", "attention_mask", "token_type_ids", "human_tokens", "labels"}
    assert batch["input_ids"].shape == batch["attention_mask"].shape == batch["human_tokens"].shape == (4, SEQ)
    assert batch["token_type_ids"].shape == (4, SEQ) and batch["token_type_ids"].eq(0).all()
    assert batch["attention_mask"][:, -1].sum() == 0  # right padding (BERT family)
    torch.testing.assert_close(batch["human_tokens"].sum(-1), torch.ones(4))
    left = bench.pad_to({"input_ids": torch.ones(1, 3, dtype=torch.long)}, 5, pad_id=7, side="left")
    assert left["input_ids"].tolist() == [[7, 7, 1, 1, 1]]
    types = bench.pad_to({"token_type_ids": torch.zeros(1, 3, dtype=torch.long)}, 5, 7, "left", pad_type_id=3)
    assert types["token_type_ids"].tolist() == [[3, 3, 0, 0, 0]]
    with pytest.raises(ValueError, match="more than 2"):
        bench.pad_to({"input_ids": torch.ones(1, 3, dtype=torch.long)}, 2, pad_id=0, side="right")


def test_variants_share_weights_and_differ_only_in_strategy_and_path():
    model = tiny_humal()
    variants = bench.make_variants(model)
    assert list(variants) == list(bench.VARIANTS)
    assert variants["baseline"].config.strategy == "baseline"
    assert variants["al_efficient"].config.attention_path == "efficient"
    assert variants["al_efficient"].backbone.config._attn_implementation == "sdpa"
    assert variants["al_naive"].config.attention_path == "naive"
    assert variants["al_naive"].backbone.config._attn_implementation == "eager"
    reference = model.state_dict()
    for variant in variants.values():
        assert variant is not model
        for name, value in variant.state_dict().items():
            assert torch.equal(value, reference[name])


def test_bench_device_structure_and_printed_report(capsys):
    model = tiny_humal()

    def reference() -> BertForSequenceClassification:
        return BertForSequenceClassification(base_config("bert")).to(torch.float32)

    result = bench.bench_device(
        model, tiny_batch(model), torch.device("cpu"), reference_factory=reference,
        repeats=1, steps_per_round=1, warmup=1,
    )
    names = {*bench.VARIANTS, "trainer"}
    assert set(result["median_ms"]) == names
    assert all(len(result["steps_ms"][name]) == 1 for name in names)
    assert all(value > 0 for value in result["median_ms"].values())
    for key in ("ratio_al_vs_baseline", "ratio_naive_vs_baseline", "ratio_baseline_vs_trainer"):
        assert math.isfinite(result[key]) and result[key] > 0
    assert result["ratio_al_vs_baseline"] == pytest.approx(
        result["median_ms"]["al_efficient"] / result["median_ms"]["baseline"]
    )

    for line in bench.report_lines({"cpu": result}, "cpu"):
        print(line)
    lines = capsys.readouterr().out.strip().splitlines()
    assert LAST_LINE.match(lines[-1])
    assert lines[-2].startswith("ratio_baseline_vs_trainer=") and lines[-3].startswith("ratio_naive_vs_baseline=")
    assert any("HF Trainer" in line for line in lines)


def test_bench_steps_round_robin_counts():
    calls: list[str] = []

    class Fake:
        def __init__(self, name: str) -> None:
            self.name = name

        def run(self, n: int) -> list[float]:
            calls.extend([self.name] * n)
            return [0.001] * n

    times = bench.bench_steps({"a": Fake("a"), "b": Fake("b")}, repeats=2, steps_per_round=3, warmup=1)
    assert {k: len(v) for k, v in times.items()} == {"a": 6, "b": 6}
    assert calls[:2] == ["a", "b"]  # warm-up
    assert calls[2:] == ["a"] * 3 + ["b"] * 3 + ["b"] * 3 + ["a"] * 3  # the start rotates
    with pytest.raises(ValueError):
        bench.bench_steps({"a": Fake("a")}, repeats=0)


@pytest.mark.slow
def test_run_bench_end_to_end_on_a_tiny_saved_model(tmp_path, yelp_dir, yelp_df, capsys, monkeypatch):
    """run_bench itself (real Yelp-HAT batch of 32 x 128, Trainer reference) on a tiny model.

    `yelp_df` only shares the parsing of the CSV files with the other tests."""
    monkeypatch.setenv("HUMAL_DATA_DIR", str(yelp_dir))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=bench.SEQ_LEN,
    )
    BertModel(config).save_pretrained(tmp_path)
    wordpiece_tokenizer().save_pretrained(tmp_path)
    threads = torch.get_num_threads()
    try:
        result = bench.run_bench(repeats=1, device="cpu", steps_per_round=1, warmup=0, model_name=str(tmp_path))
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    lines = capsys.readouterr().out.strip().splitlines()
    assert LAST_LINE.match(lines[-1])
    assert float(lines[-1].split("=")[1]) == pytest.approx(result["ratio_al_vs_baseline"], abs=1e-4)
    if bench.cpu_has_bf16():  # the CPU's fp32 vs bf16 line, beside AL's
        assert re.fullmatch(r"ratio_fp32_vs_bf16=[0-9.]+", lines[-2])
        assert float(lines[-2].split("=")[1]) == pytest.approx(result["ratio_fp32_vs_bf16"], abs=1e-4)
    assert result["primary"] == "cpu" and set(result["devices"]) == {"cpu"}
    assert (result["batch_size"], result["seq_len"]) == (32, 128)
    assert set(result["median_ms"]) == {*bench.VARIANTS, "trainer"}


def test_cli_passes_its_options_to_run_bench(monkeypatch):
    seen = {}
    monkeypatch.setattr(bench, "run_bench", lambda **kwargs: seen.update(kwargs))
    assert cli.main(["bench", "--repeats", "3", "--device", "cpu", "--no-trainer"]) == 0
    assert seen == {"repeats": 3, "device": "cpu", "trainer": False}


def test_bad_bench_settings_are_refused_before_the_model_loads(monkeypatch):
    from humal_nb.core.errors import ParameterError
    from humal_nb.method import models

    monkeypatch.setattr(models, "build_model", lambda *a, **k: pytest.fail("the model was loaded"))
    for kwargs, name in (({"repeats": 0}, "repeats"), ({"steps_per_round": 0}, "steps_per_round"),
                         ({"warmup": -1}, "warmup")):
        with pytest.raises(ParameterError, match=f"bench: {name} must be a whole number"):
            bench.run_bench(trainer=False, **kwargs)
