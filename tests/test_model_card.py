"""humal_nb.model_card: every saved model/ gets a Hugging Face model card, written offline and
without the machine's paths; `train.save_run` writes it beside the weights."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fake_runs import metrics
from huggingface_hub import ModelCard

from humal_nb import model_card


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
    for needed in ("HuMAL-AL", "import humal_nb.models", "AutoModelForSequenceClassification.from_pretrained",
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
    from humal_nb import runs, train

    class Saved:
        def save_pretrained(self, folder: Path) -> None:
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / f"{type(self).__name__}.bin").write_text("x")

    data = metrics("ap", tmp_path / "run")
    train.save_run(train.RunResult(data, [], Saved(), Saved()), tmp_path / "run")
    card = ModelCard.load(tmp_path / "run" / runs.MODEL_DIR / "README.md")
    assert "HuMAL-AP" in card.text
    assert runs.is_complete(tmp_path / "run")
