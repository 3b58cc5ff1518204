"""humal_nb.experiments.model_card: every saved model/ gets a Hugging Face model card, written offline and
without the machine's paths; `train.save_run` writes it beside the weights."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from fake_runs import metrics
from huggingface_hub import ModelCard

from humal_nb.experiments import model_card


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the model card reached for the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_card_loads_as_a_hugging_face_model_card(tmp_path: Path, no_network: None) -> None:
    data = metrics("al", tmp_path / "run", auc=0.9125)
    path = model_card.write_model_card(tmp_path, data)
    assert path == tmp_path / "README.md"
    card = ModelCard.load(path)  # a Path: read from disk, never from the Hub
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert results["roc_auc"] == pytest.approx(0.9125)
    assert results["cosine_similarity"] == pytest.approx(0.55)
    assert card.data.base_model == model_card.HUB_DEFAULT_MODEL
    assert card.data.library_name == "transformers" and card.data.pipeline_tag == "text-classification"
    text = card.text
    for needed in ("HuMAL-AL", "import humal_nb.method.models", 'pipeline("text-classification", model="path/to/model")',
                   "pip install humal_nb", "## Limitations",
                   "| alpha | 2.00 |", "| bootstrap, seed, test seed | 0, 0, 0 |", "imbalance ratio 25%",
                   "| AUC | 0.9125 |"):
        assert needed in text, needed
    raw = path.read_text()
    assert str(tmp_path) not in raw  # out_dir is left out, data_dir cut to its name
    assert '"data_dir": "data"' in raw and "out_dir" not in raw


def test_local_base_model_is_named_not_linked(tmp_path: Path) -> None:
    local = tmp_path / "models" / "my-bert"
    data = metrics("baseline", tmp_path / "run")
    data["model"] = str(local)
    card = model_card.model_card(data)
    assert card.data.base_model is None
    assert "my-bert" in card.text and str(tmp_path) not in str(card)


def test_save_run_writes_the_card_beside_the_weights(tmp_path: Path) -> None:
    from humal_nb.config import runs
    from humal_nb.experiments import train

    class Saved:
        def save_pretrained(self, folder: Path) -> None:
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / f"{type(self).__name__}.bin").write_text("x")

    data = metrics("ap", tmp_path / "run")
    train.save_run(train.RunResult(data, [], Saved(), Saved()), tmp_path / "run")
    card = ModelCard.load(tmp_path / "run" / runs.MODEL_DIR / "README.md")
    assert "HuMAL-AP" in card.text
    assert runs.is_complete(tmp_path / "run")


def test_card_metadata_license_data_language_and_rounded_metrics(tmp_path: Path) -> None:
    data = metrics("al", tmp_path / "run", auc=0.98669999999)
    data.update(accuracy=0.5, f1=0.0, n_train=250, n_train_minority=13)
    card = model_card.model_card(data)
    assert card.data.license == "apache-2.0" and card.data.language == "en"
    assert card.data.datasets == ["yelp-hat"] and card.data.base_model == model_card.HUB_DEFAULT_MODEL
    assert card.data.pipeline_tag == "text-classification" and "humal" in card.data.tags
    assert {r.metric_type: r.metric_value for r in card.data.eval_results}["roc_auc"] == 0.9867
    assert "value: 0.9867" in str(card) and "0.98669999999" not in str(card)
    text = card.text
    assert "5% of its 250 training reviews were of class 'positive'" in text
    assert "ranks the texts well (AUC) but rarely crosses 0.5" in text and "AUC 0.9867, accuracy 0.5000, F1 0.0000" in text
    data.update(accuracy=0.95, f1=0.95)
    assert "rarely crosses 0.5" not in model_card.limitations(data)


def test_class_names_yelp_hat_generic_and_given() -> None:
    assert model_card.class_names({"parameters": {"data_file": ""}}) == {0: "negative", 1: "positive"}
    generic = {"parameters": {"data_file": "texts.jsonl"}}
    assert model_card.class_names(generic) == {0: "0", 1: "1"}
    assert model_card.card_data(generic).datasets == ["texts.jsonl"]
    generic["parameters"]["class_names"] = ["ham", "spam"]
    assert model_card.class_names(generic) == {0: "ham", 1: "spam"}
    local = {"model": "/opt/models/my-bert", "parameters": {}}
    assert model_card.card_data(local).license is None and model_card.card_data(local).base_model is None


@pytest.mark.slow
def test_a_trained_runs_card_and_labels_work_with_a_pipeline(minilm_pair) -> None:
    import transformers

    import humal_nb.method.models  # noqa: F401  registers the HuMAL architecture
    from humal_nb.config import runs

    _, humal_dir = minilm_pair
    model_dir = humal_dir / runs.MODEL_DIR
    card = ModelCard.load(model_dir / "README.md")
    assert card.data.license == "apache-2.0" and card.data.datasets == ["yelp-hat"] and card.data.language == "en"
    assert card.data.base_model == model_card.HUB_DEFAULT_MODEL
    assert all(r.metric_value == round(r.metric_value, 4) for r in card.data.eval_results)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "positive"}
    assert config["label2id"] == {"negative": 0, "positive": 1}
    classify = transformers.pipeline("text-classification", model=str(model_dir), device="cpu")
    answers = classify(["The food was delicious and the staff friendly!", "Cold, bland and rude."])
    assert {a["label"] for a in answers} <= {"negative", "positive"} and all(0 <= a["score"] <= 1 for a in answers)
