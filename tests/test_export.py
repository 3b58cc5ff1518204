"""Exporting a run's attention as a table and predicting new texts with a run's saved model.

Fast tests use hand-written run folders; the slow ones train a tiny real HuMAL-AL run with its
baseline (as `compare_baseline` writes it) and check the tables against its attention.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from humal_nb.config import runs
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ParameterError
from humal_nb.experiments.export import export_attention, predict_texts, read_texts

REVIEWS = [
    {"review_id": "r1", "label": 1, "prob": 0.9, "length_group": "yelp50", "words": ["good", "food"],
     "human": [0.25, 0.75], "machine": [0.4, 0.6], "maps": [[1, 1], [0, 1]]},
    {"review_id": "r2", "label": 0, "prob": 0.2, "length_group": "yelp50", "words": ["cold", "soup", "again"],
     "human": [0.5, 0.5, 0.0], "machine": [0.1, 0.7, 0.2], "maps": [[1, 1, 0]]},
]
BASELINE_MACHINE = {"r1": [0.5, 0.5], "r2": [0.3, 0.3, 0.4]}
BASELINE_PROB = {"r1": 0.6, "r2": 0.45}


def _write_run(folder: Path, strategy: str, reviews: list[dict], finished: bool = True) -> Path:
    runs.write_json(folder / runs.ATTENTION_FILE, {"strategy": strategy, "reviews": reviews})
    if finished:
        runs.write_json(folder / runs.METRICS_FILE, {**dict.fromkeys(runs.REQUIRED_METRICS, 0), "strategy": strategy,
                                                           "model": "m", "history": [], "attention": {}})
    return folder


@pytest.fixture
def hand_run(tmp_path: Path) -> Path:
    """A finished `al` run folder with a baseline/, written by hand (no model)."""
    baseline = [{**r, "machine": BASELINE_MACHINE[r["review_id"]], "prob": BASELINE_PROB[r["review_id"]]}
                for r in REVIEWS]
    _write_run(tmp_path / "run" / "baseline", "baseline", baseline)
    return _write_run(tmp_path / "run", "al", REVIEWS)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_writes_one_row_per_word_with_every_model(hand_run, tmp_path, suffix):
    out = export_attention(hand_run, tmp_path / f"attention{suffix}")
    table = pd.read_csv(out, dtype={"review_id": str}) if suffix == ".csv" else pd.read_parquet(out)
    assert list(table.columns) == ["review_id", "word_index", "word", "label", "length_group", "human_attention",
                                   "human_votes", "baseline_attention", "al_attention", "baseline_prob", "al_prob"]
    assert list(zip(table.review_id, table.word_index, table.word)) == [
        ("r1", 0, "good"), ("r1", 1, "food"), ("r2", 0, "cold"), ("r2", 1, "soup"), ("r2", 2, "again")]
    assert table.label.tolist() == [1, 1, 0, 0, 0] and table.human_votes.tolist() == [1, 2, 1, 1, 0]
    assert np.allclose(table.human_attention, [0.25, 0.75, 0.5, 0.5, 0.0])
    assert np.allclose(table.al_attention, [0.4, 0.6, 0.1, 0.7, 0.2])
    assert np.allclose(table.baseline_attention, [0.5, 0.5, 0.3, 0.3, 0.4])
    assert np.allclose(table.al_prob, [0.9, 0.9, 0.2, 0.2, 0.2])
    assert np.allclose(table.baseline_prob, [0.6, 0.6, 0.45, 0.45, 0.45])


def test_export_of_a_run_without_baseline_has_one_model(tmp_path):
    run = _write_run(tmp_path / "run", "an", REVIEWS)
    table = pd.read_csv(export_attention(run, tmp_path / "a.csv"))
    assert [c for c in table.columns if c.endswith(("_attention", "_prob"))] == ["human_attention", "an_attention",
                                                                                 "an_prob"]


def test_export_refuses_other_suffixes_and_unfinished_runs(hand_run, tmp_path):
    with pytest.raises(ParameterError, match="must end in .csv or .parquet"):
        export_attention(hand_run, tmp_path / "attention.xlsx")
    unfinished = _write_run(tmp_path / "unfinished", "al", REVIEWS, finished=False)
    with pytest.raises(DataNotFoundError, match="is not a finished run: it has no complete metrics.json"):
        export_attention(unfinished, tmp_path / "a.csv")
    (hand_run / "baseline" / runs.METRICS_FILE).unlink()
    with pytest.raises(DataNotFoundError, match="baseline' is not a finished run"):
        export_attention(hand_run, tmp_path / "a.csv")
    with pytest.raises(DataNotFoundError, match="does not exist"):
        export_attention(tmp_path / "nowhere", tmp_path / "a.csv")
    assert not (tmp_path / "a.csv").exists()


def test_export_refuses_models_on_different_texts(hand_run, tmp_path):
    other = [{**REVIEWS[0], "words": ["bad", "food"]}, REVIEWS[1]]
    _write_run(hand_run / "baseline", "baseline", other)
    with pytest.raises(DataFormatError, match="review 'r1' is missing from, or has other words in, the 'baseline' run"):
        export_attention(hand_run, tmp_path / "a.csv")


def test_read_texts_names_the_file_and_row_of_a_bad_text(tmp_path):
    good = tmp_path / "texts.csv"
    pd.DataFrame({"text_id": [1, 2], "text": ["Great tacos", "Cold food, rude staff"], "x": [0, 0]}).to_csv(good)
    assert read_texts(good) == [{"text_id": "1", "text": "Great tacos"}, {"text_id": "2", "text": "Cold food, rude staff"}]
    bad = tmp_path / "texts.jsonl"
    bad.write_text('{"text_id": "a", "text": "fine"}\n{"text_id": "a", "text": "again"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="texts.jsonl, line 2: text_id 'a' is also the id of line 1"):
        read_texts(bad)
    bad.write_text('{"text_id": "a", "text": "fine"}\n\n{"text_id": "b", "text": "  "}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="texts.jsonl, line 3: text is empty or missing"):
        read_texts(bad)
    bad.write_text('{"id": "a", "text": "fine"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="texts.jsonl: no column text_id"):
        read_texts(bad)


def test_predict_refuses_a_run_without_a_saved_model(hand_run, tmp_path):
    texts = tmp_path / "texts.jsonl"
    texts.write_text('{"text_id": "a", "text": "fine"}\n', encoding="utf-8")
    with pytest.raises(DataNotFoundError, match="has no saved model .* save_model: true"):
        predict_texts(hand_run, texts, tmp_path / "p.jsonl")
    with pytest.raises(ParameterError, match="must end in .csv or .jsonl or .parquet"):
        predict_texts(hand_run, texts, tmp_path / "p.txt")


def test_export_command(hand_run, tmp_path, capsys):
    from humal_nb.cli.commands import build_parser

    parser = build_parser()
    args = parser.parse_args(["export", str(hand_run), "--out", str(tmp_path / "a.parquet")])
    assert args.func(args) == 0 and "wrote" in capsys.readouterr().out
    assert len(pd.read_parquet(tmp_path / "a.parquet")) == 5
    args = parser.parse_args(["predict", str(hand_run), "t.csv", "--out", "p.csv", "--batch-size", "4"])
    assert (args.run, args.texts, args.out, args.batch_size, args.device) == (str(hand_run), "t.csv", "p.csv", 4, "auto")


# ---------------------------------------------------------------------- a tiny real run
@pytest.fixture(scope="module")
def trained_run(minilm_pair) -> Path:
    """The session's tiny pair's HuMAL-AL run (its baseline in `baseline/`, as `compare_baseline` writes it)."""
    return minilm_pair[1]


def _reviews(folder: Path) -> list[dict]:
    return runs.read_json(folder / runs.ATTENTION_FILE)["reviews"]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_of_a_trained_run_matches_its_attention_json(trained_run, tmp_path, suffix):
    out = export_attention(trained_run, tmp_path / f"a{suffix}")
    table = pd.read_csv(out, dtype={"review_id": str}) if suffix == ".csv" else pd.read_parquet(out)
    humal, baseline = _reviews(trained_run), {r["review_id"]: r for r in _reviews(trained_run / "baseline")}
    assert len(humal) == 20 and len(table) == sum(len(r["words"]) for r in humal)
    for review_id, rows in table.groupby("review_id", sort=False):
        record = next(r for r in humal if r["review_id"] == review_id)
        assert rows.word.tolist() == record["words"] and rows.word_index.tolist() == list(range(len(record["words"])))
        assert np.allclose(rows.human_attention, record["human"], rtol=0, atol=1e-12)
        assert np.allclose(rows.al_attention, record["machine"], rtol=0, atol=1e-12)
        assert np.allclose(rows.baseline_attention, baseline[review_id]["machine"], rtol=0, atol=1e-12)
        assert set(rows.al_prob) == {record["prob"]} and set(rows.baseline_prob) == {baseline[review_id]["prob"]}
        assert set(rows.label) == {record["label"]}
    assert not np.allclose(table.al_attention, table.baseline_attention)


@pytest.mark.slow
def test_predict_reproduces_the_runs_test_predictions(trained_run, tmp_path):
    reviews = _reviews(trained_run)
    long_text = " ".join(["delicious"] * 40 + ["awful"] * 40)  # beyond max_length 64
    texts = tmp_path / "texts.jsonl"
    lines = [{"text_id": r["review_id"], "text": " ".join(r["words"])} for r in reviews]
    lines += [{"text_id": "short", "text": "Great tacos"}, {"text_id": "long", "text": long_text}]
    texts.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    out = predict_texts(trained_run, texts, tmp_path / "p.jsonl", device="cpu")
    predicted = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [p["text_id"] for p in predicted] == [line["text_id"] for line in lines]
    for record, p in zip(reviews, predicted):
        assert p["words"] == record["words"] and abs(p["prob"] - record["prob"]) < 1e-5
        assert np.allclose(p["attention"], record["machine"], rtol=0, atol=1e-5)
    short, long = predicted[-2:]
    assert long["truncated"] and not short["truncated"] and len(short["attention"]) == 2
    for p in predicted:  # every word read gets some attention; only words cut off get none
        assert abs(sum(p["attention"]) - 1) < 1e-6 and p["truncated"] == (p["attention"][-1] == 0.0)

    table = pd.read_csv(predict_texts(trained_run, texts, tmp_path / "p.csv", device="cpu"), dtype={"text_id": str})
    assert len(table) == sum(len(line["text"].split()) for line in lines)
    first = table[table.text_id == reviews[0]["review_id"]]
    assert np.allclose(first.attention, predicted[0]["attention"]) and set(first.prob) == {predicted[0]["prob"]}
    assert len(pd.read_parquet(predict_texts(trained_run, texts, tmp_path / "p.parquet", device="cpu"))) == len(table)


@pytest.mark.slow
def test_predict_refuses_the_trained_run_once_its_model_is_gone(trained_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained_run, copy, ignore=shutil.ignore_patterns(runs.MODEL_DIR))
    texts = tmp_path / "texts.csv"
    texts.write_text("text_id,text\n1,Great tacos\n", encoding="utf-8")
    with pytest.raises(DataNotFoundError, match="has no saved model"):
        predict_texts(copy, texts, tmp_path / "p.csv")
    assert len(pd.read_csv(export_attention(copy, tmp_path / "a.csv"))) > 0  # exporting needs no model
