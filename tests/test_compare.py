"""The explorer's data: two runs joined per review, layer/head attention, summaries."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import train_tiny_pair

from humal_nb.analyses import compare, model_attention
from humal_nb.config import runs
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ParameterError
from humal_nb.core.paths import display_path
from humal_nb.experiments import notebooks, run
from humal_nb.measures import analysis


@pytest.fixture(scope="module")
def pair(minilm_pair):
    return minilm_pair


@pytest.fixture(scope="module")
def comparison(pair):
    return compare.load_comparison(*pair)


def _copy_run(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name in (runs.ATTENTION_FILE, runs.METRICS_FILE):
        shutil.copy(src / name, dst / name)
    return dst


# ---------------------------------------------------------------------- joining two runs
def test_load_comparison_joins_both_runs_per_review(pair, comparison):
    base_dir, humal_dir = pair
    base = {r["review_id"]: r for r in runs.read_json(base_dir / "attention.json")["reviews"]}
    humal = runs.read_json(humal_dir / "attention.json")["reviews"]
    frame = comparison.reviews
    assert list(frame.columns) == compare.COLUMNS
    assert list(frame["review_id"]) == [r["review_id"] for r in humal] and len(comparison) == 20
    assert comparison.names == {"baseline": "Baseline", "humal": "HuMAL-AL"}
    assert comparison.metrics["humal"]["strategy"] == "al" and comparison.metrics["baseline"]["strategy"] == "baseline"
    for (_, row), record in zip(frame.iterrows(), humal):
        assert row["words"] == record["words"] and row["n_words"] == len(record["words"])
        assert row["humal"] == record["machine"] and row["human"] == record["human"]
        assert row["baseline"] == base[row["review_id"]]["machine"]
        assert row["baseline_prob"] == base[row["review_id"]]["prob"] and row["humal_prob"] == record["prob"]
        assert row["baseline_wrong"] == (int(row["baseline_prob"] >= 0.5) != row["label"])
        assert row["humal_wrong"] == (int(row["humal_prob"] >= 0.5) != row["label"])
        expected = {(False, False): "none", (True, False): "baseline", (False, True): "humal", (True, True): "both"}
        assert row["errors"] == expected[(row["baseline_wrong"], row["humal_wrong"])]
        assert len(row["maps"]) >= 1 and all(len(m) == row["n_words"] for m in row["maps"])
    assert comparison.review(frame["review_id"].iloc[3])["review_id"] == frame["review_id"].iloc[3]
    with pytest.raises(KeyError, match="not in the test set"):
        comparison.review("no-such-review")


def test_a_folder_without_attention_json_is_named(pair, tmp_path):
    base_dir, humal_dir = pair
    empty = tmp_path / "not_a_run"
    empty.mkdir()
    with pytest.raises(DataNotFoundError, match="has no attention.json") as err:
        compare.load_comparison(base_dir, empty)
    assert str(empty) in str(err.value)
    missing = tmp_path / "missing"
    with pytest.raises(DataNotFoundError, match="does not exist") as err:
        compare.load_comparison(missing, humal_dir)
    assert str(missing) in str(err.value)


def test_runs_on_different_test_sets_are_refused(pair, tmp_path):
    base_dir, humal_dir = pair
    fewer = _copy_run(base_dir, tmp_path / "fewer")
    cache = runs.read_json(fewer / "attention.json")
    dropped = cache["reviews"].pop(0)["review_id"]
    runs.write_json(fewer / "attention.json", cache)
    with pytest.raises(DataFormatError, match="do not share the same test set") as err:
        compare.load_comparison(fewer, humal_dir)
    assert dropped in str(err.value) and str(humal_dir) in str(err.value)

    other_words = _copy_run(base_dir, tmp_path / "other_words")
    cache = runs.read_json(other_words / "attention.json")
    cache["reviews"][2]["words"][0] = "changed"
    runs.write_json(other_words / "attention.json", cache)
    with pytest.raises(DataFormatError, match="different words"):
        compare.load_comparison(other_words, humal_dir)

    other_human = _copy_run(base_dir, tmp_path / "other_human")
    cache = runs.read_json(other_human / "attention.json")
    n = len(cache["reviews"][1]["human"])
    cache["reviews"][1]["human"] = [1.0 / n] * n
    runs.write_json(other_human / "attention.json", cache)
    with pytest.raises(DataFormatError, match="different human attention"):
        compare.load_comparison(other_human, humal_dir)


def test_filters_partition_the_reviews(comparison):
    frame = comparison.reviews
    assert len(compare.filter_reviews(frame)) == 20
    by_label = [compare.filter_reviews(frame, label=k) for k in (0, 1)]
    assert [len(f) for f in by_label] == [10, 10] and set(by_label[1]["label"]) == {1}
    parts = ["baseline_only", "humal_only", "both", "neither"]
    assert sum(len(compare.filter_reviews(frame, errors=k)) for k in parts) == 20
    assert len(compare.filter_reviews(frame, errors="baseline")) == int(frame["baseline_wrong"].sum())
    group = frame["length_group"].iloc[0]
    assert set(compare.filter_reviews(frame, length_group=group)["length_group"]) == {group}
    with pytest.raises(ParameterError, match="valid: any, baseline"):
        compare.filter_reviews(frame, errors="sometimes")


def test_example_reviews_take_turns_over_error_groups(comparison):
    picked = compare.example_reviews(comparison, 4)
    groups = [g for g in ("baseline", "humal", "both", "none") if (comparison.reviews["errors"] == g).any()]
    assert len(picked) == 4 and picked["review_id"].is_unique
    assert list(picked["errors"][: len(groups)]) == groups
    assert len(compare.example_reviews(comparison, 100)) == 20


# ---------------------------------------------------------------------- summaries
def test_summaries_agree_with_the_runs_metrics(comparison):
    frame = comparison.reviews
    cos = compare.cosine_summary(comparison).set_index("model")
    for which, name in comparison.names.items():
        attention = comparison.metrics[which]["attention"]
        assert cos.loc[name, "cosine_mean"] == pytest.approx(attention["cosine_to_human"], abs=1e-9)
        assert cos.loc[name, "n"] == 20
    rates = compare.rates_table(comparison).set_index("source")
    assert list(rates.index) == ["human", "Baseline", "HuMAL-AL"]
    human_rate = comparison.metrics["humal"]["attention"]["human_highlight_rate"]
    assert rates.loc["human", "highlight_rate"] == pytest.approx(human_rate)
    assert rates.loc["human", "rate_std"] == pytest.approx(analysis.high_attention_rate(list(frame["human"])))
    assert rates.loc["HuMAL-AL", "rate_std"] == pytest.approx(comparison.metrics["humal"]["attention"]["high_attention_rate"])
    assert np.isnan(rates.loc["Baseline", "highlight_rate"]) and "5 %" in rates.loc["Baseline", "paper"]
    assert "13-21 %" in rates.loc["human", "paper"]
    curves = compare.position_table(comparison)
    assert list(curves["source"].unique()) == ["human", "Baseline", "HuMAL-AL"] and len(curves) == 30
    plaus = compare.plausibility_summary(comparison)
    assert list(plaus["model"]) == ["Baseline", "HuMAL-AL"] and plaus["auprc"].between(0, 1).all()
    subset = compare.filter_reviews(frame, label=1)
    assert compare.cosine_summary(comparison, subset)["n"].tolist() == [10, 10]


# ---------------------------------------------------------------------- layers and heads
def test_layer_head_attention_matches_the_saved_attention_and_is_cached(pair, comparison):
    model_attention.clear_caches()
    base_dir, humal_dir = pair
    row = comparison.reviews.iloc[0]
    for which, folder in (("baseline", base_dir), ("humal", humal_dir)):
        last = model_attention.layer_head_attention(folder, row["words"], layer=-1, head=None)
        np.testing.assert_allclose(last, row[which], atol=1e-5)  # eq. 1, as saved by the run
    assert model_attention.model_shape(humal_dir) == (6, 12)
    heads = [model_attention.layer_head_attention(humal_dir, row["words"], layer=2, head=h) for h in range(12)]
    for values in heads:
        assert values.shape == (row["n_words"],) and values.sum() == pytest.approx(1.0)
    assert not np.allclose(heads[0], heads[1])
    assert not np.allclose(model_attention.layer_head_attention(humal_dir, row["words"], 0), row["humal"])
    models, reviews = run._load_model.cache_info(), model_attention._review_attention.cache_info()
    assert models.misses == 2 and reviews.misses == 2  # one model per run, one forward per review
    assert reviews.hits >= 13
    with pytest.raises(ParameterError, match="has 6 layers"):
        model_attention.layer_head_attention(humal_dir, row["words"], layer=6)
    with pytest.raises(ParameterError, match="12 heads"):
        model_attention.layer_head_attention(humal_dir, row["words"], layer=0, head=12)
    attention = model_attention.review_attention(humal_dir, row["words"])
    assert attention.attentions.shape[:2] == (6, 12) and attention.tokens[0] == "[CLS]" and attention.cls == 0


def test_word_aggregation_on_a_real_tokenizer(pair, comparison):
    """Summing sub-words (the explorer's layer/head rows) on MiniLM's WordPiece: the same as
    tokens_to_words, and the inverse of the human-side copy in mass (a word of k
    sub-words comes back as k * w / sum(k * w); the identity when every k is 1)."""
    from humal_nb.method.tokens import tokens_to_words, words_to_tokens

    _, humal_dir = pair
    split_words = 0
    for _, row in comparison.reviews.head(5).iterrows():
        attention = model_attention.review_attention(humal_dir, row["words"])
        ids, n = attention.word_ids, row["n_words"]
        human = np.asarray(row["human"])
        tokens = words_to_tokens(human, ids)
        summed = tokens_to_words(tokens, ids, n)
        np.testing.assert_allclose(summed, tokens_to_words(tokens, ids, n), atol=1e-12)
        counts = np.array([ids.count(w) for w in range(n)], dtype=float)  # 0 for truncated words
        expected = human * counts
        np.testing.assert_allclose(summed, expected / expected.sum(), atol=1e-12)
        split_words += int((counts > 1).sum())
        machine = attention.cls_rows[-1].mean(axis=0)
        np.testing.assert_allclose(tokens_to_words(machine, ids, n), tokens_to_words(machine, ids, n), atol=1e-12)
    assert split_words > 0  # some words of real reviews are split into sub-words


def test_a_run_without_model_says_so(pair, comparison, tmp_path):
    base_dir, _ = pair
    plain = _copy_run(base_dir, tmp_path / "no_model")
    assert model_attention.model_shape(plain) is None
    with pytest.raises(DataNotFoundError, match="no saved model"):
        model_attention.layer_head_attention(plain, comparison.reviews.iloc[0]["words"], 0)


# ---------------------------------------------------------------------- finding and training runs
def test_resolve_runs(pair, tmp_path):
    base_dir, humal_dir = pair
    assert compare.resolve_runs(str(base_dir), str(humal_dir)) == (base_dir, humal_dir)
    lone = _copy_run(humal_dir, tmp_path / "lone")
    with pytest.raises(DataNotFoundError, match="no baseline/ run beside it"):
        compare.resolve_runs(humal_run=str(lone))
    nested = _copy_run(humal_dir, tmp_path / "nested")
    _copy_run(base_dir, nested / "baseline")
    assert compare.resolve_runs(humal_run=str(nested)) == (nested.resolve() / "baseline", nested.resolve())
    with pytest.raises(ParameterError, match="give both"):
        compare.resolve_runs(baseline_run=str(base_dir))


def test_small_runs_are_reused_when_their_parameters_match(pair, tmp_path_factory):
    base_dir, humal_dir = pair
    stamps = [os.stat(d / "metrics.json").st_mtime_ns for d in pair]
    assert train_tiny_pair(tmp_path_factory) == pair
    assert [os.stat(d / "metrics.json").st_mtime_ns for d in pair] == stamps
    params = runs.read_metrics(base_dir)["parameters"]
    assert params["data_size"] == 24 and params["strategy"] == "baseline"
    humal_params = runs.read_metrics(humal_dir)["parameters"]
    # the same subset; each run records its own folder as "." (the baseline's, inside it, as "..")
    assert {**humal_params, "out_dir": ".."} == {**params, "strategy": "al"} and humal_params["out_dir"] == "."
    with pytest.raises(ParameterError, match="HuMAL strategy"):
        compare.train_small_runs(tmp_path_factory.getbasetemp() / "never", strategy="baseline")


def test_strip_widgets_drops_widget_state_and_views():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("w")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={notebooks.WIDGET_MIME: {"model_id": "abc"}, "text/plain": "VBox()"})]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    plain = notebooks.strip_widgets(nb, "<p>note</p>")
    assert "widgets" not in plain.metadata and "widgets" in nb.metadata
    assert plain.cells[0].outputs[0]["data"]["text/html"] == "<p>note</p>"
    assert notebooks.WIDGET_MIME not in json.dumps(plain)


@pytest.mark.slow
def test_compare_command_writes_the_report_of_two_finished_runs(pair, tmp_path, capsys):
    from humal_nb.cli import commands as cli

    baseline_dir, humal_dir = pair
    out = tmp_path / "cmp"
    assert cli.main(["compare", str(humal_dir), "--baseline", str(baseline_dir), "--out", str(out)]) == 0
    report = out / compare.COMPARE_REPORT
    assert f"report: {display_path(report)}" in capsys.readouterr().out  # not the machine's absolute path
    html = report.read_text()
    assert "Cosine similarity to human attention" in html and html.count('class="humal-heatmap"') == 5
    assert (out / runs.COMPARE_NOTEBOOK_FILE).is_file()
    assert cli.main(["compare", str(tmp_path / "no-such-run")]) == 2  # no baseline/ beside it: a clear error
    assert "has no baseline/ run beside it" in capsys.readouterr().err
    assert not (tmp_path / "no-such-run").exists()
