"""Long steps show progress: the grid's progress line, faithfulness's steps and bar, rollout's bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fake_runs import metrics, write_run
from tiny_models import TOKENIZERS, tiny_model

from humal_nb.analyses import faithfulness
from humal_nb.config import runs
from humal_nb.core import progress
from humal_nb.core.progress import duration_text, grid_progress_text, labelled_bar
from humal_nb.method import rollout


def test_durations_read_as_people_say_them():
    assert [duration_text(s) for s in (0, 35.4, 60, 250, 3599, 3600, 7500)] == [
        "0 s", "35 s", "1 min 00 s", "4 min 10 s", "59 min 59 s", "1 h 00 min", "2 h 05 min"]


def test_grid_progress_line_counts_cells_and_estimates_the_time_left():
    counts = {"finished": 10, "skipped": 2, "failed": 1, "not_enough_data": 0, "interrupted": 0}
    # 48 cells: 12 done, 1 failed, 35 left; cells took 60 s and 80 s (mean 70 s); 2 workers: 18 rounds
    text = grid_progress_text(counts, 48, elapsed=250, durations=[60.0, 80.0], workers=2)
    assert text == "12 done, 1 failed, 35 left; 4 min 10 s elapsed, about 21 min 00 s left"
    assert grid_progress_text(counts, 48, 250, [60.0, 80.0], workers=1) == (
        "12 done, 1 failed, 35 left; 4 min 10 s elapsed, about 40 min 50 s left")
    assert grid_progress_text({"skipped": 3, "not_enough_data": 2}, 9, 5, []) == (
        "3 done, 2 not enough data, 0 failed, 4 left; 5 s elapsed, time left known after the first cell")
    assert grid_progress_text({"finished": 4, "failed": 1}, 5, 4000, [float("nan"), 900.0]) == (
        "4 done, 1 failed, 0 left; 1 h 06 min elapsed")


class FakeModel:
    """P(1) = 0.5 + 0.1 per "good" kept; records each call's texts."""

    def __init__(self) -> None:
        self.calls: list[list[list[str]]] = []

    def __call__(self, texts):
        self.calls.append([list(t) for t in texts])
        return np.array([0.5 + 0.1 * t.count("good") for t in texts])


def test_erasure_runs_every_distinct_text_in_one_call():
    """All k values and reviews are one job: one call of the model, each distinct text once."""
    reviews = [["good", "food", "here", "good"][: 2 + j % 3] for j in range(5)]
    scores = [np.arange(len(r), dtype=float) for r in reviews]
    model = FakeModel()
    records = faithfulness.erasure_records(reviews, {"s": scores}, model, (0.5, 1.0))
    assert len(model.calls) == 1 and len(records) == 10
    texts = [tuple(t) for t in model.calls[0]]
    assert len(texts) == len(set(texts))  # no text run twice


@pytest.fixture
def tiny_run_dir(tmp_path) -> Path:
    """A finished run folder whose saved model is a tiny BERT."""
    folder = write_run(tmp_path / "tiny", "baseline", seed=0)
    runs.write_json(folder / runs.METRICS_FILE, metrics("baseline", folder, max_length=12))
    tiny_model("bert", strategy="baseline", seed=4).save_pretrained(folder / runs.MODEL_DIR)
    TOKENIZERS["bert"]().save_pretrained(folder / runs.MODEL_DIR)
    return folder


def test_faithfulness_bar_counts_the_texts_run(tiny_run_dir, capsys, monkeypatch):
    def every_step(*args, **kwargs):  # a bar redrawn at every batch (tqdm draws at most every 0.1 s)
        bar = labelled_bar(*args, **kwargs)
        bar.mininterval, bar.miniters = 0, 0
        return bar

    monkeypatch.setattr(progress, "labelled_bar", every_step)
    texts = [["the", "food", "was", "great"], ["never", "going", "back"], ["cold"]]
    predictor = faithfulness.ModelPredictor(tiny_run_dir, device="cpu", batch_size=2, cache=False, progress=True,
                                            desc="faithfulness: Baseline")
    predictor(texts)
    err = capsys.readouterr().err
    assert "faithfulness: Baseline" in err and "2/3" in err and "3/3" in err and "text" in err


def test_rollout_bar_is_named_by_its_caller(capsys):
    model, tokenizer = tiny_model("bert", strategy="baseline"), TOKENIZERS["bert"]()
    texts = [["the", "food", "was", "great"], ["never", "going", "back"], ["cold"]]
    quiet = rollout.word_readings(model, tokenizer, texts, max_length=16, batch_size=2)
    assert "rollout" not in capsys.readouterr().err  # no bar unless asked for (or $HUMAL_PROGRESS)
    with rollout.progress_as("rollout: Baseline", progress=True):
        shown = rollout.word_readings(model, tokenizer, texts, max_length=16, batch_size=2)
    err = capsys.readouterr().err
    assert "rollout: Baseline" in err and "3/3" in err
    np.testing.assert_allclose(np.concatenate(shown["rollout"]), np.concatenate(quiet["rollout"]))


def test_no_notebook_bar_under_voila(monkeypatch):
    """Voila shows its page once every cell ran: a bar there would show nothing live and can
    render as "model not found", so none is drawn; elsewhere `progress` draws one."""
    from humal_nb.core.progress import VOILA_VARIABLE, progress_bar

    monkeypatch.delenv(VOILA_VARIABLE, raising=False)
    bar = progress_bar(3, "shown", progress=True)
    assert not bar.disable
    bar.close()
    monkeypatch.setenv(VOILA_VARIABLE, "a-kernel-id")
    bar = progress_bar(3, "hidden", progress=True)
    assert bar.disable
    bar.close()
