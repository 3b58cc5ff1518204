"""One run end to end on real Yelp-HAT with the default model, and bad parameters."""

import math

import pytest
from conftest import TINY_PAIR

from humal_nb.config.run_config import RunConfig
from humal_nb.config.runs import REQUIRED_METRICS, is_complete, read_json
from humal_nb.core.errors import ModelError, ParameterError
from humal_nb.experiments.train import run_experiment

TINY = {**TINY_PAIR, "epochs": 2, "batch_size": 8, "max_length": 48}  # two epochs: a loss history


def _finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


@pytest.fixture(scope="module")
def al_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("al")
    return out, run_experiment(RunConfig(strategy="al", **TINY), out_dir=out, progress=False)


def test_short_real_run_writes_complete_metrics(al_run):
    out, metrics = al_run
    assert is_complete(out)
    saved = read_json(out / "metrics.json")
    assert saved == metrics
    for key in REQUIRED_METRICS:
        assert key in metrics
    for key in ("auc", "accuracy", "f1", "alpha", "train_seconds"):
        assert _finite(metrics[key]), key
    assert metrics["n_train"] == 24 and metrics["n_test"] == 20 and metrics["n_train_minority"] == 6
    assert len(metrics["history"]) == 2
    for epoch in metrics["history"]:
        assert _finite(epoch["ce_loss"]) and _finite(epoch["attention_loss"])
    for key in ("cosine_to_human", "high_attention_rate"):
        assert _finite(metrics["attention"][key])
    reviews = read_json(out / "attention.json")["reviews"]
    assert len(reviews) == 20
    assert all(len(r["words"]) == len(r["human"]) == len(r["machine"]) for r in reviews)
    assert (out / "model" / "config.json").is_file() and (out / "model" / "tokenizer.json").is_file()


def test_same_seed_same_numbers_on_cpu(al_run):
    _, first = al_run
    again = run_experiment(RunConfig(strategy="al", save_model=False, **TINY), progress=False)
    assert again["auc"] == first["auc"]
    assert again["history"][-1]["ce_loss"] == first["history"][-1]["ce_loss"]
    assert again["attention"] == first["attention"]


def test_saved_model_predicts_new_text_without_human_attention(al_run):
    import torch
    from transformers import AutoTokenizer

    from humal_nb.method.models import HumalForSequenceClassification

    out, _ = al_run
    model = HumalForSequenceClassification.from_pretrained(out / "model").eval()
    tokenizer = AutoTokenizer.from_pretrained(out / "model")
    batch = tokenizer(["Best tacos in town!", "Cold food, rude staff."], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert logits.shape == (2, 2) and torch.isfinite(logits).all()


@pytest.mark.parametrize(
    "change, key",
    [
        ({"strategy": "humal"}, "strategy"),
        ({"alpha": -1.0}, "alpha"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"imbalance_ratio": 1.5}, "imbalance_ratio"),
        ({"data_size": "many"}, "data_size"),
        ({"learnig_rate": 0.1}, "learnig_rate"),
    ],
)
def test_bad_parameters_fail_before_training(change, key):
    with pytest.raises(ParameterError, match=key):
        run_experiment({**TINY, **change}, progress=False)


def test_model_whose_attention_cannot_be_read_fails_before_training(tmp_path, monkeypatch):
    import json

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "funnel", "d_model": 32}))  # no reader for funnel
    monkeypatch.setattr("humal_nb.experiments.train.train_model", lambda *a, **k: pytest.fail("training started"))
    with pytest.raises(ModelError, match="not supported"):
        run_experiment(RunConfig(model=str(tmp_path), **TINY), progress=False)


def test_agreement_reaches_the_generic_format(tmp_path):
    """`agreement` decides which generic-format texts stay, as it does for Yelp-HAT."""
    import json

    from humal_nb.experiments.train import load_reviews

    rows = [  # text 1: one of two annotators disagrees with the label; text 2: both agree
        {"text_id": 1, "text": "good food and nice staff", "label": 1, "highlights": [0], "annotator_label": 1},
        {"text_id": 1, "text": "good food and nice staff", "label": 1, "highlights": [3], "annotator_label": 0},
        {"text_id": 2, "text": "cold soup", "label": 0, "highlights": [1], "annotator_label": 0},
        {"text_id": 2, "text": "cold soup", "label": 0, "highlights": [0, 1], "annotator_label": 0},
    ]
    path = tmp_path / "generic.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    kept = {a: sorted(load_reviews(RunConfig(data_file=str(path), agreement=a)).review_id) for a in ("all", "any")}
    assert kept == {"all": ["2"], "any": ["1", "2"]}


@pytest.mark.trains
def test_attention_loss_history_averages_the_rows_with_human_attention():
    """A review whose highlighted words were all cut off has no attention loss: it does not
    pull the epoch's mean attention loss towards 0."""
    from types import SimpleNamespace

    import torch

    from humal_nb.experiments.train import train_model
    from humal_nb.method.models import HumalOutput
    from humal_nb.method.tokens import EncodedText

    class Fixed(torch.nn.Module):  # attention loss 0.5 over rows with human attention, as alignment_loss
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, input_ids, attention_mask, human_tokens, labels, **kwargs):
            valid = human_tokens.sum(-1) > 0
            ce = (self.w**2).sum() + 1.0
            att = torch.tensor(0.5 if valid.any() else 0.0)
            return HumalOutput(loss=ce + att, logits=None, ce_loss=ce, attention_loss=att)

    with_highlight = EncodedText([1, 2, 3], [None, 0, None], [0.0, 1.0, 0.0], 1)
    cut_off = EncodedText([1, 2, 3], [None, 0, None], [0.0, 0.0, 0.0], 1)
    tokenizer = SimpleNamespace(pad_token_id=0, padding_side="right", pad_token_type_id=0)
    config = RunConfig(epochs=1, batch_size=1)
    history = train_model(
        Fixed(), tokenizer, [with_highlight, cut_off, with_highlight], [0, 1, 0], config, torch.device("cpu"), False
    )
    assert history[0]["attention_loss"] == pytest.approx(0.5)
    assert history[0]["ce_loss"] == pytest.approx(1.0)
