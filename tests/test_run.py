"""A finished run as one noun (`humal_nb.experiments.run.Run`): what opening a folder refuses, its parameters,
baseline and attention read back, and predictions equal to the old loading path's; plus the
grep checks that keep one model loader, one `resolve_device` and readers free of training code.

Fast: hand-written run folders and a tiny saved BERT; one slow test reads the session's
trained MiniLM pair."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_runs import metrics, write_pair, write_run
from tiny_models import CORPUS, TOKENIZERS, tiny_model

from humal_nb.config import runs
from humal_nb.config.run_config import RunConfig
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ParameterError
from humal_nb.experiments.run import Run, clear_model_cache, read_attention
from humal_nb.method.tokens import encode_texts, tokens_to_words

PACKAGE = Path(__file__).resolve().parents[1] / "humal_nb"
#: modules that read finished runs: none of them may import the training code
READERS = ("analyses/model_attention", "experiments/export", "analyses/faithfulness", "analyses/compare",
           "publication/views", "explorer/browser", "explorer/bertviz_views", "experiments/run", "method/inference")


# ---------------------------------------------------------------------- opening a folder
def test_open_refuses_a_missing_folder_and_an_unfinished_run(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        Run.open(tmp_path / "nowhere")
    with pytest.raises(DataNotFoundError, match="is not a finished run: it has no complete metrics.json "
                                                r"\(there is none\)"):
        Run.open(tmp_path)
    partial = metrics("al", tmp_path)
    del partial["auc"], partial["history"]
    runs.write_json(tmp_path / runs.METRICS_FILE, partial)  # as a run killed half-way never writes it, but a hand might
    with pytest.raises(DataNotFoundError, match="it lacks 'auc', 'history'"):
        Run.open(tmp_path)
    (tmp_path / runs.METRICS_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(DataNotFoundError, match="cannot be read as JSON"):
        Run.open(tmp_path)


def test_a_run_without_model_says_to_rerun_with_save_model(tmp_path):
    run = Run.open(write_run(tmp_path / "run", "al", seed=0))
    assert not run.has_model and len(run.review_attention) == 4  # reading its files needs no model
    for ask in (run.load_model, run.require_model, lambda: run.tokenizer, lambda: run.predict(["good food"])):
        with pytest.raises(DataNotFoundError, match=r"has no saved model \(model/\).*save_model: true"):
            ask()


def test_config_reads_back_the_parameters_that_were_written(tmp_path):
    config = RunConfig(strategy="ap", alpha=0.5, max_length=96, data_size=40, out_dir=str(tmp_path))
    folder = write_run(tmp_path / "run", "ap", seed=0)
    data = runs.read_metrics(folder)
    runs.write_json(folder / runs.METRICS_FILE, {**data, "parameters": config.to_dict()})
    assert Run.open(folder).config == config

    older = {k: v for k, v in config.to_dict().items() if k not in ("max_length", "precision")}
    runs.write_json(folder / runs.METRICS_FILE, {**data, "parameters": {**older, "retired_parameter": 1}})
    read = Run.open(folder).config  # keys an older run lacks take RunConfig's defaults; unknown ones are left out
    assert read == config.replace(max_length=RunConfig().max_length, precision=RunConfig().precision)

    runs.write_json(folder / runs.METRICS_FILE, {**data, "parameters": {**older, "strategy": "nope"}})
    with pytest.raises(DataFormatError, match="parameters are not a valid run's"):
        _ = Run.open(folder).config


def test_baseline_is_the_paired_run_or_none(tmp_path):
    run = Run.open(write_pair(tmp_path))
    assert run.baseline is not None and run.baseline.folder == run.folder / runs.BASELINE_DIR
    assert run.baseline.metrics["strategy"] == "baseline" and run.baseline.baseline is None
    assert run.metrics["strategy"] == "al" and run.config.strategy == "al"
    (run.folder / runs.BASELINE_DIR / runs.METRICS_FILE).unlink()
    with pytest.raises(DataNotFoundError, match="baseline' is not a finished run"):
        _ = Run.open(run.folder).baseline


def test_attention_is_read_once_and_checked(tmp_path):
    folder = write_run(tmp_path / "run", "al", seed=3)
    run = Run.open(folder)
    reviews = run.review_attention
    assert [r["review_id"] for r in reviews] == ["r1", "r2", "r3", "r4"] and run.review_attention is reviews
    cache = runs.read_json(folder / runs.ATTENTION_FILE)
    cache["reviews"][1]["review_id"] = "r1"
    runs.write_json(folder / runs.ATTENTION_FILE, cache)
    with pytest.raises(DataFormatError, match="lists a review_id more than once"):
        read_attention(folder)
    cache["reviews"][1]["machine"] = [1.0]
    runs.write_json(folder / runs.ATTENTION_FILE, cache)
    with pytest.raises(DataFormatError, match="review 2: words, human and machine are not lists of one length"):
        read_attention(folder)
    (folder / runs.ATTENTION_FILE).unlink()
    with pytest.raises(DataNotFoundError, match="has no attention.json"):
        _ = Run.open(folder).review_attention


def test_review_attention_and_attention_summary_have_distinct_names(tmp_path):
    folder = write_run(tmp_path / "run", "al", seed=3)
    run = Run.open(folder)
    assert run.attention_summary == run.metrics["attention"] and "cosine_to_human" in run.attention_summary
    assert isinstance(run.review_attention, list) and run.review_attention[0]["review_id"] == "r1"
    with pytest.warns(DeprecationWarning, match="Run.review_attention"):
        old = run.attention
    assert old is run.review_attention  # the deprecated name still answers
    data = runs.read_json(folder / runs.METRICS_FILE)
    del data["attention"]
    assert Run(folder, data).attention_summary == {}


# ---------------------------------------------------------------------- its model
@pytest.fixture
def tiny_run(tmp_path) -> Path:
    """A finished run folder whose saved model is a tiny BERT (max_length 12: long texts are cut)."""
    folder = write_run(tmp_path / "tiny", "al", seed=0)
    runs.write_json(folder / runs.METRICS_FILE, metrics("al", folder, max_length=12))
    tiny_model("bert", strategy="al", seed=4).save_pretrained(folder / runs.MODEL_DIR)
    TOKENIZERS["bert"]().save_pretrained(folder / runs.MODEL_DIR)
    return folder


def _old_predict(folder: Path, words: list[list[str]], max_length: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """What export and faithfulness computed before `Run`: a fresh load, then `train.predict`."""
    from transformers import AutoTokenizer

    from humal_nb.experiments.train import predict
    from humal_nb.method.models import HumalForSequenceClassification

    model = HumalForSequenceClassification.from_pretrained(folder / runs.MODEL_DIR).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder / runs.MODEL_DIR)
    tokenizer.padding_side = model.family.padding_side
    encoded = encode_texts(tokenizer, model.family, words, max_length=max_length)
    probs, rows = predict(model, tokenizer, encoded, torch.device("cpu"), batch_size=4)
    return probs, [tokens_to_words(row, e.word_ids, e.n_words) for row, e in zip(rows, encoded)]


def test_predict_equals_the_old_loading_path_to_the_last_bit(tiny_run):
    clear_model_cache()
    run = Run.open(tiny_run)
    texts = [*CORPUS, " ".join(CORPUS)]  # the last one is cut at 12 tokens
    predictions = run.predict(texts, batch_size=4, device="cpu")
    probs, attention = _old_predict(tiny_run, [t.split() for t in texts], max_length=12)
    np.testing.assert_array_equal(predictions.probs, probs)
    for new, old in zip(predictions.attention, attention):
        np.testing.assert_array_equal(new, old)
    assert predictions.truncated == [False] * len(CORPUS) + [True]
    assert predictions.visible == run.visible(texts) and predictions.visible[-1] == 10  # [CLS] + 10 words + [SEP]
    assert run.predict([t.split() for t in texts], batch_size=4, device="cpu").probs.tolist() == probs.tolist()


def test_predict_takes_one_string_or_a_list_or_tuple_of_texts(tiny_run):
    run = Run.open(tiny_run)
    one = run.predict("Delicious food here", device="cpu")
    assert one.probs.shape == (1,) and len(one.attention[0]) == 3  # one text, not one per character
    many = run.predict(("Delicious food here", "cold and bland"), device="cpu")
    assert many.probs[0] == pytest.approx(one.probs[0], abs=1e-5) and len(many.probs) == 2  # padding aside
    for bad, named in ((5, "got int"), ({"a text"}, "got set"), (iter(["a"]), "got list_iterator"),
                       (["fine", 3], "text 2 is a int"), ([["fine", None]], "text 1 is a list")):
        with pytest.raises(ParameterError, match=f"a string \\(one text\\) or a list or tuple of strings.*{named}"):
            run.predict(bad, device="cpu")


def test_the_model_is_loaded_once_per_process_and_again_when_saved_again(tiny_run):
    from humal_nb.experiments import run as run_module

    clear_model_cache()
    first = Run.open(tiny_run).load_model()
    assert Run.open(tiny_run).load_model() is first and not first.training
    assert run_module._load_model.cache_info().misses == 1
    tiny_model("bert", strategy="al", seed=5).save_pretrained(tiny_run / runs.MODEL_DIR)
    assert Run.open(tiny_run).load_model() is not first  # new weights on disk: loaded again
    clear_model_cache()


@pytest.mark.slow
def test_predict_on_the_trained_pair_equals_the_old_path(minilm_pair):
    _, humal_dir = minilm_pair
    run = Run.open(humal_dir)
    assert run.baseline is not None and run.baseline.folder == humal_dir / runs.BASELINE_DIR
    words = [r["words"] for r in run.review_attention]
    predictions = run.predict(words, batch_size=4, device="cpu")
    probs, attention = _old_predict(humal_dir, words, max_length=run.config.max_length)
    np.testing.assert_array_equal(predictions.probs, probs)
    for new, old, record in zip(predictions.attention, attention, run.review_attention):
        np.testing.assert_array_equal(new, old)
        np.testing.assert_allclose(new, record["machine"], atol=1e-5)  # the run's own test evaluation


# ---------------------------------------------------------------------- one home, checked by grep
def _sources() -> dict[str, str]:
    return {path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}


def test_one_resolve_device_and_one_loader_of_a_saved_run():
    sources = _sources()
    defined = [name for name, text in sources.items() if re.search(r"^def resolve_device\(", text, re.M)]
    assert defined == ["method/inference.py"]
    loaders = [name for name, text in sources.items()
               for _ in re.finditer(r"HumalForSequenceClassification\.from_pretrained\(", text)]
    assert loaders == ["experiments/run.py"]


def test_readers_of_finished_runs_import_no_training_code():
    sources = _sources()
    training = re.compile(r"^\s*(from humal_nb\.experiments import [^\n]*\btrain\b|from humal_nb\.experiments\.train "
                          r"import|import humal_nb\.experiments\.train)", re.M)
    assert [name for name in READERS if training.search(sources[f"{name}.py"])] == []

