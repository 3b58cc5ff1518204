"""ERASER faithfulness and IOU-F1: hand-computed cases, a tiny real model, a cross-check.

The hand-computed cases below (a fake model whose probability is a known function of the
words kept) check comprehensiveness, sufficiency and AOPC by hand.

The cross-check against an independent implementation compares humal_nb's AOPC
comprehensiveness and sufficiency with ferret-xai's (`ferret.evaluators.faithfulness_measures`)
on a tiny random BERT (the case: tests/ferret_case.py). ferret-xai 0.4.2 cannot be installed
cleanly next to humal_nb's pinned environment: it requires numpy<2 and transformers<5 (the
environment pins numpy 2.4 and transformers 5), and its package `__init__` imports shap,
lime, captum, datasets, thermostat-datasets, opencv and scikit-image. It is therefore not a
requirement. Its numbers on the case are stored in tests/fixtures/ferret_aopc.json, with the
ferret, torch and transformers versions they were computed under, and
`test_aopc_agrees_with_ferret` always runs against them. The fixture is written by
scripts/ferret_reference.py, which loads only ferret's evaluator modules (plain
numpy/scipy/torch code) without running its package `__init__`; regenerate it, after any
change to the case, in a separate folder that leaves the pinned environment untouched:

    .venv/bin/python -m pip install --no-deps --target /tmp/ferret_pkgs ferret-xai==0.4.2 && PYTHONPATH=/tmp/ferret_pkgs .venv/bin/python scripts/ferret_reference.py

Regenerating is also the live check: the test then compares humal_nb with ferret's fresh numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import transformers
from fake_runs import metrics
from ferret_case import FIXTURE, ferret_case, random_texts
from tiny_models import TOKENIZERS, tiny_model

from humal_nb.analyses import compare, faithfulness, model_attention
from humal_nb.config import runs
from humal_nb.core.errors import DataFormatError, DataNotFoundError, ParameterError
from humal_nb.core.names import BERTVIZ_CACHE_FILE, FAITHFULNESS_CACHE_FILE, READINGS_CACHE_FILE
from humal_nb.experiments.run import Run
from humal_nb.experiments.train import predict
from humal_nb.explorer import bertviz_views
from humal_nb.explorer import browser as explorer
from humal_nb.method import model_cache
from humal_nb.method.tokens import encode_texts
from humal_nb.publication import views

# ---------------------------------------------------------------------- a fake model
# P(1) = 0.3 + the sum of the kept words' weights
WEIGHTS = {"good": 0.3, "nice": 0.2, "the": 0.0, "food": 0.05, "bad": -0.3}
REVIEWS = [["good", "the", "nice", "food"], ["bad", "the", "food"], ["good"]]
SCORES = [[0.4, 0.1, 0.3, 0.2], [0.9, 0.0, 0.5], [1.0]]
PERCENTS = (0.25, 0.5, 1.0)


class FakeModel:
    """A predictor whose P(1) is a known function of the words; it records its calls."""

    def __init__(self) -> None:
        self.calls: list[list[list[str]]] = []

    def __call__(self, texts):
        self.calls.append([list(t) for t in texts])
        return np.array([0.3 + sum(WEIGHTS[w] for w in t) for t in texts])


def _by(records: pd.DataFrame, review: str, column: str) -> list[float]:
    return records[records["review_id"] == review][column].round(10).tolist()


def test_comprehensiveness_and_sufficiency_by_hand():
    """Review 0: P(1) = 0.85, class 1; words ranked good, nice, food, the.
      k = 1 (25 %): without good -> 0.55, comp 0.30; only good -> 0.60, suff 0.25.
      k = 2 (50 %): without good, nice -> 0.35, comp 0.50; only them -> 0.80, suff 0.05.
      k = 4 (100 %): one word is kept: without good, nice, food -> 0.30, comp 0.55; all kept, suff 0.
    Review 1: P(1) = 0.05, class 0 (p = 0.95); ranked bad, food, the; k = 1, 2, 3.
      k = 1: without bad -> P(1) 0.35, p 0.65, comp 0.30; only bad -> P(1) 0.0, p 1.0, suff -0.05.
      k = 2, 3: without bad, food -> P(1) 0.30, comp 0.25; only bad, food (all) -> suff 0.
    Review 2 (one word): nothing can be removed, comp 0; suff 0."""
    model = FakeModel()
    records = faithfulness.erasure_records(REVIEWS, {"s": SCORES}, model, PERCENTS)
    assert list(records.columns) == [c for c in faithfulness.RECORD_COLUMNS if c != "model"]
    assert _by(records, "0", "k") == [1, 2, 4] and _by(records, "1", "k") == [1, 2, 3] and _by(records, "2", "k") == [1] * 3
    assert _by(records, "0", "comprehensiveness") == [0.30, 0.50, 0.55]
    assert _by(records, "0", "sufficiency") == [0.25, 0.05, 0.0]
    assert _by(records, "1", "pred") == [0, 0, 0] and _by(records, "1", "full_prob") == [0.05] * 3
    assert _by(records, "1", "comprehensiveness") == [0.30, 0.25, 0.25]
    assert _by(records, "1", "sufficiency") == [-0.05, 0.0, 0.0]
    assert _by(records, "2", "comprehensiveness") == [0.0] * 3 and _by(records, "2", "sufficiency") == [0.0] * 3
    assert records["top"].iloc[1] == [0, 2]  # review 0 at 50 %: good, nice
    # AOPC: review 0 comp 0.45, suff 0.1; review 1 comp 0.8 / 3, suff -0.05 / 3; review 2: 0, 0
    table = faithfulness.aopc_table(records)
    assert table["comprehensiveness"].iloc[0] == pytest.approx((0.45 + 0.8 / 3 + 0) / 3)
    assert table["sufficiency"].iloc[0] == pytest.approx((0.1 - 0.05 / 3 + 0) / 3)
    assert table["comprehensiveness_se"].iloc[0] == pytest.approx(np.std([0.45, 0.8 / 3, 0], ddof=1) / np.sqrt(3))
    assert table["n_reviews"].iloc[0] == 3
    curve = faithfulness.percent_table(records)
    assert curve["comprehensiveness"].round(10).tolist() == [round(0.6 / 3, 10), 0.25, round(0.8 / 3, 10)]
    # at most one call of the model per k (3 reviews: one step each; none when a k brings no new
    # text), each distinct text once over all the calls (the one-word review is the same text 7 times)
    texts = [t for call in model.calls for t in call]
    assert len(model.calls) <= len(PERCENTS) and len(texts) == len({tuple(t) for t in texts})


def test_drops_toward_the_true_label():
    """Review 1 is labelled 1 but predicted 0: toward its label every drop changes sign
    (k = 1: P(1) 0.05 -> 0.35 without "bad", comprehensiveness -0.30); review 0 (label 1,
    predicted 1) is unchanged."""
    records = faithfulness.erasure_records(REVIEWS[:2], {"s": SCORES[:2]}, FakeModel(), PERCENTS, labels=[1, 1])
    label = faithfulness.toward(records, "label")
    assert _by(label, "1", "comprehensiveness") == [-0.30, -0.25, -0.25]
    assert _by(label, "1", "sufficiency") == [0.05, 0.0, 0.0]
    assert _by(label, "0", "comprehensiveness") == _by(records, "0", "comprehensiveness")
    table = faithfulness.aopc_table(records, target="label")
    assert table["comprehensiveness"].iloc[0] == pytest.approx((0.45 - 0.8 / 3) / 2)
    with pytest.raises(DataFormatError, match="no true labels"):
        faithfulness.toward(faithfulness.erasure_records(REVIEWS[:1], {"s": SCORES[:1]}, FakeModel(), (0.5,)), "label")
    with pytest.raises(ParameterError, match="target"):
        faithfulness.aopc_table(records, target="gold")


def test_sources_are_compared_on_the_same_texts():
    """Two sources, one of them the reverse ranking: the worst-first ranking removes the
    least useful words (low comprehensiveness) and keeps them (high sufficiency)."""
    reverse = [[-v for v in s] for s in SCORES]
    records = faithfulness.erasure_records(REVIEWS[:1], {"best": SCORES[:1], "worst": reverse[:1]}, FakeModel(), (0.25,))
    table = faithfulness.aopc_table(records).set_index("source")
    # worst first at 25 %: "the" (weight 0): comp 0, only "the" -> 0.3, suff 0.55
    assert table.loc["worst", "comprehensiveness"] == pytest.approx(0.0)
    assert table.loc["worst", "sufficiency"] == pytest.approx(0.55)
    assert table.loc["best", "comprehensiveness"] == pytest.approx(0.30)


def test_only_visible_words_are_ranked_and_removed():
    """visible = 2: the model sees "good the"; P(1) 0.6; ranked good, the. 50 %: k 1."""
    records = faithfulness.erasure_records(REVIEWS[:1], {"s": SCORES[:1]}, FakeModel(), (0.5,), visible=[2])
    row = records.iloc[0]
    assert (row["n_words"], row["k"], row["full_prob"]) == (2, 1, pytest.approx(0.6))
    assert row["comprehensiveness"] == pytest.approx(0.3) and row["sufficiency"] == pytest.approx(0.0)


def test_top_k_rounds_up_and_keeps_a_word():
    assert [faithfulness.top_k(30, p) for p in faithfulness.PERCENTS] == [1, 2, 3, 6, 15]
    assert [faithfulness.top_k(100, p) for p in faithfulness.PERCENTS] == [1, 5, 10, 20, 50]
    assert faithfulness.top_k(3, 0.5) == 2 and faithfulness.top_k(1, 0.01) == 1 and faithfulness.top_k(5, 1.0) == 5
    assert faithfulness.top_indices([0.1, 0.3, 0.3, 0.0], 2).tolist() == [1, 2]  # ties: the earlier word first
    assert faithfulness.without(["a", "b", "c"], [2, 0]) == ["b"] and faithfulness.only(["a", "b", "c"], [2, 0]) == ["a", "c"]
    with pytest.raises(DataFormatError, match="at least one word"):
        faithfulness.without(["a"], [0])
    with pytest.raises(ParameterError, match="percent"):
        faithfulness.top_k(10, 0.0)
    with pytest.raises(DataFormatError, match="3 values for 4 words"):
        faithfulness.erasure_records(REVIEWS[:1], {"s": [[1, 2, 3]]}, FakeModel(), (0.5,))


def test_random_control_is_seeded():
    a, b = faithfulness.random_scores([3, 5], seed=1), faithfulness.random_scores([3, 5], seed=1)
    assert [len(v) for v in a] == [3, 5] and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(faithfulness.random_scores([3, 5], seed=2)[1], a[1])


# ---------------------------------------------------------------------- IOU-F1
def test_spans_and_iou():
    assert faithfulness.spans([0, 1, 1, 0, 1]) == [(1, 3), (4, 5)]
    assert faithfulness.spans([1, 1]) == [(0, 2)] and faithfulness.spans([0, 0]) == []
    assert faithfulness.span_iou((1, 3), (2, 4)) == pytest.approx(1 / 3)
    assert faithfulness.span_iou((2, 5), (1, 4)) == pytest.approx(0.5) and faithfulness.span_iou((0, 1), (3, 4)) == 0
    assert faithfulness.span_matches([(0, 1), (0, 3)], [(0, 2)]) == 2  # IOU 1/2 and 2/3: each predicted span counts
    assert faithfulness.span_matches([(0, 1)], [(0, 3)]) == 0  # 1/3 < .5


def test_iou_f1_by_hand():
    """Review A (10 words): human spans (1,4) and (7,8); top 3 words 2, 3, 4 -> one span (2,5),
    IOU with (1,4) = 2/4 -> a match: 1 of 1 predicted, 1 of 2 human.
    Review B (5 words): human span (0,2); top 2 words 0, 3 -> spans (0,1) (IOU 1/2, a match)
    and (3,4): 1 of 2 predicted, 1 of 1 human. C (empty consensus) and D (every word) are not scored.
    Micro: P = 2/3, R = 2/3, F1 = 2/3; macro: P = (1 + .5)/2, R = (.5 + 1)/2, F1 = .75."""
    maps = [[[0, 1, 1, 1, 0, 0, 0, 1, 0, 0]], [[1, 1, 0, 0, 0]], [[0, 0, 0]], [[1, 1]]]
    scores = [[0, 0, 5, 5, 4, 0, 0, 0, 0, 0], [3, 0, 0, 2, 1], [1, 2, 3], [1, 1]]
    result = faithfulness.iou_f1(scores, maps, percent=0.3)
    assert result["n_scored"] == 2 and result["percent"] == 0.3
    assert result["precision"] == pytest.approx(2 / 3) and result["recall"] == pytest.approx(2 / 3)
    assert result["iou_f1"] == pytest.approx(2 / 3) and result["iou_f1_macro"] == pytest.approx(0.75)
    # the default share of words: the annotators' highlight rate, (4 + 2 + 0 + 2) / 20 = 0.4
    assert faithfulness.iou_f1(scores, maps)["percent"] == pytest.approx(0.4)
    # the human consensus itself as scores: every span found
    exact = faithfulness.iou_f1([m[0] for m in maps[:2]], maps[:2], percent=0.4)
    assert exact["iou_f1"] == pytest.approx(1.0)
    table = faithfulness.iou_table(maps, {"a": scores, "b": scores}, percent=0.3)
    assert list(table["source"]) == ["a", "b"] and table["iou_f1"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert np.isnan(faithfulness.iou_f1([[1, 2, 3]], [[[0, 0, 0]]])["iou_f1"])


# ---------------------------------------------------------------------- a tiny real model
def _predictor(model, tokenizer, max_length: int = 64):
    def run(texts):
        encoded = encode_texts(tokenizer, model.family, texts, max_length=max_length)
        return predict(model, tokenizer, encoded, torch.device("cpu"), batch_size=4)[0]

    return run


def test_tiny_model_erasure_is_consistent():
    """On a tiny BERT: probabilities in [0, 1], a model that ignores nothing moves, the
    same ranking under two names gives the same records, a full sufficiency is 0."""
    model, tokenizer = tiny_model("bert", strategy="baseline"), TOKENIZERS["bert"]()
    texts = random_texts(4, 10)
    scores = faithfulness.random_scores([10] * 4, seed=3)
    records = faithfulness.erasure_records(texts, {"a": scores, "b": scores}, _predictor(model, tokenizer),
                                           (0.1, 0.5, 1.0))
    a, b = records[records["source"] == "a"], records[records["source"] == "b"]
    for column in ("comprehensiveness", "sufficiency", "full_prob", "removed_prob", "kept_prob"):
        np.testing.assert_allclose(a[column].to_numpy(), b[column].to_numpy())
    assert records[["full_prob", "removed_prob", "kept_prob"]].stack().between(0, 1).all()
    np.testing.assert_allclose(records[records["percent"] == 1.0]["sufficiency"], 0.0, atol=1e-6)
    assert (records["comprehensiveness"].abs() > 1e-6).any()


def _assert_agrees(case, reference: list[dict], why: str) -> None:
    """humal_nb's predicted class, its probability and AOPC per text against ferret's (`reference`:
    one dict a text, as scripts/ferret_reference.py writes them)."""
    records = faithfulness.erasure_records(case.texts, {"s": case.scores}, _predictor(case.model, case.tokenizer),
                                           case.percents)
    ours = faithfulness.aopc_table(records, by=("review_id",)).set_index("review_id")
    assert len(ours) == len(reference)
    for j, ferret in enumerate(reference):
        first = records[records["review_id"] == str(j)].iloc[0]
        pred, p1 = int(first["pred"]), float(first["full_prob"])
        assert pred == ferret["pred"], f"text {j}: humal_nb predicts class {pred}, ferret {ferret['pred']}; {why}"
        assert (p1 if pred == 1 else 1 - p1) == pytest.approx(ferret["pred_prob"], abs=1e-5), f"text {j}: {why}"
        for measure in ("comprehensiveness", "sufficiency"):
            assert ours.loc[str(j), measure] == pytest.approx(ferret[measure], abs=1e-5), f"text {j}, {measure}: {why}"


def test_aopc_agrees_with_ferret():
    """humal_nb's AOPC against ferret-xai's, stored in tests/fixtures/ferret_aopc.json (see the
    module docstring). Each word of the case's texts is one token, so ferret's token-level
    erasure (ids removed, the rest decoded and re-tokenized) is the word-level one. ferret takes
    floor(p * n) tokens and skips an empty or repeated rationale; at 20, 30 and 50 % of 10 words
    floor and ceil agree and no rationale repeats, and all scores are positive (ferret's only_pos)."""
    stored = json.loads(FIXTURE.read_text())
    case = ferret_case()
    regenerate = f"regenerate {FIXTURE.name}: {stored['regenerate']}"
    if ([t["words"] for t in stored["texts"]] != case.texts
            or [t["scores"] for t in stored["texts"]] != [[float(v) for v in s] for s in case.scores]
            or stored["percents"] != list(case.percents)):
        pytest.fail(f"the cross-check's case (tests/ferret_case.py: its texts, scores or percents) has changed "
                    f"since ferret's numbers were stored; {regenerate}")
    stored_versions = f"torch {stored['torch']}, transformers {stored['transformers']}"
    versions = f"torch {torch.__version__}, transformers {transformers.__version__}"
    why = f"humal_nb disagrees with ferret's stored numbers ({FIXTURE.name}, {stored_versions})"
    if versions != stored_versions:
        why += f"; here: {versions}: if the tiny model changed with them, {regenerate}"
    _assert_agrees(case, stored["texts"], why)


# ---------------------------------------------------------------------- runs, the explorer, the report
def _tiny_run(folder, strategy: str, reviews: list[dict], seed: int):
    """A finished run folder: attention.json, metrics.json (max_length) and a saved tiny model."""
    model, tokenizer = tiny_model("bert", strategy=strategy, seed=seed), TOKENIZERS["bert"]()
    folder.mkdir(parents=True)
    model.save_pretrained(folder / runs.MODEL_DIR)
    tokenizer.save_pretrained(folder / runs.MODEL_DIR)
    probs = _predictor(model, tokenizer)([r["words"] for r in reviews])
    rng = np.random.default_rng(seed)
    records = []
    for r, p in zip(reviews, probs):
        machine = rng.random(len(r["words"]))
        records.append({**r, "prob": float(p), "machine": list(machine / machine.sum())})
    runs.write_json(folder / runs.ATTENTION_FILE, {"strategy": strategy, "reviews": records})
    runs.write_json(folder / runs.METRICS_FILE, metrics(strategy, folder, max_length=12))
    return folder


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_faith")
    reviews = []
    for j, words in enumerate(random_texts(6, 14, seed=5)):  # 14 words: cut at 12 tokens, 10 words seen
        maps = [[int((i + j) % 4 == 0) for i in range(14)], [int((i + j) % 3 == 0) for i in range(14)]]
        human = np.sum(maps, axis=0) / np.sum(maps)
        reviews.append({"review_id": f"r{j}", "label": j % 2, "length_group": "yelp50", "words": words,
                        "human": list(human), "maps": maps})
    return _tiny_run(root / "baseline", "baseline", reviews, 0), _tiny_run(root / "al", "al", reviews, 1)


def test_model_predictor_caches_in_the_run_folder(tiny_pair):
    base_dir, _ = tiny_pair
    predictor = faithfulness.ModelPredictor(base_dir, device="cpu")
    texts = random_texts(3, 14, seed=9)
    assert predictor.visible(texts) == [10, 10, 10]  # 12 tokens: [CLS] + 10 words + [SEP]
    first = predictor(texts)
    assert predictor.computed == 3 and (base_dir / "faithfulness_cache.json").is_file()
    again = faithfulness.ModelPredictor(base_dir, device="cpu")
    np.testing.assert_array_equal(again(texts), first)
    assert again.computed == 0  # all three read from the cache
    fresh = faithfulness.ModelPredictor(base_dir, device="cpu", cache=False)
    np.testing.assert_allclose(fresh(texts), first, atol=1e-6) and fresh.computed == 3
    with pytest.raises(DataNotFoundError, match="is not a finished run"):
        faithfulness.ModelPredictor(base_dir.parent)


def test_sorted_job_gives_the_per_text_fp32_probabilities(tiny_pair):
    """Every text sorted once by length and run in batches of 4 (padded to the batch's longest)
    gives each text's probability alone (batch of one, no padding) to 1e-6 in fp32."""
    base_dir, _ = tiny_pair
    texts = [words[:n] for n, words in zip((1, 9, 3, 14, 5, 2, 11, 7, 4, 6), random_texts(10, 14, seed=3))]
    predictor = faithfulness.ModelPredictor(base_dir, device="cpu", batch_size=4, cache=False, precision="fp32")
    together = predictor(texts)
    run = Run.open(base_dir)
    alone = [run.predict([t], batch_size=1, device="cpu").probs[0] for t in texts]
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-6)
    assert predictor.computed == len(texts) and predictor.precision == "fp32"


def _forward_calls() -> tuple[list[str], object]:
    """Count every forward pass of a transformers model (the HuMAL classifier or its backbone)."""
    from transformers import PreTrainedModel

    calls: list[str] = []

    def hook(module, args, output):
        if isinstance(module, PreTrainedModel):
            calls.append(type(module).__name__)

    return calls, torch.nn.modules.module.register_module_forward_hook(hook)


@pytest.mark.heavy
def test_a_second_compare_recomputes_nothing(tiny_pair, tmp_path):
    """Faithfulness and rollout of a pair, then again in a fresh process state (models and
    in-memory caches forgotten): the second time no model runs, and the caches are written
    once per model and job."""
    import shutil

    pair = [shutil.copytree(folder, tmp_path / folder.name) for folder in tiny_pair]
    first, second = {}, {}
    for seen in (first, second):
        model_attention.clear_caches()
        calls, handle = _forward_calls()
        try:
            comparison = compare.load_comparison(*pair)
            seen["faith"] = compare.faithfulness(comparison, seed=0, device="cpu", precision="fp32")
            seen["rollout"] = compare.rollout_summary(comparison, precision="fp32")
            seen["bertviz"] = bertviz_views.report_bertviz_html(comparison)
        finally:
            handle.remove()
        seen["calls"] = len(calls)
    assert first["calls"] > 0 and second["calls"] == 0
    assert min(first["faith"].computed.values()) > 0
    assert second["faith"].computed == {"baseline": 0, "humal": 0}
    pd.testing.assert_frame_equal(first["faith"].records, second["faith"].records)
    pd.testing.assert_frame_equal(first["rollout"], second["rollout"])
    assert first["bertviz"] == second["bertviz"]
    for folder in pair:
        assert (folder / FAITHFULNESS_CACHE_FILE).is_file() and (folder / READINGS_CACHE_FILE).is_file()
        assert (folder / BERTVIZ_CACHE_FILE).is_file()
    # a warm report's process never loads transformers (nor a model): everything is read from the caches
    script = (
        "import sys\n"
        "from humal_nb.analyses import compare\n"
        "from humal_nb.experiments import notebooks\n"
        "from humal_nb.explorer import bertviz_views, browser\n"
        "from humal_nb.publication import views\n"
        "notebooks.notebook_setup()\n"
        f"c = compare.load_comparison({str(pair[0])!r}, {str(pair[1])!r})\n"
        "faith = compare.faithfulness(c, seed=0, device='cpu', precision='fp32')\n"
        "browser.example_browser(c, faithfulness=faith)\n"
        "views.rollout_html(c, precision='fp32')\n"
        "views.plausibility_faithfulness_html(c, faith)\n"
        "bertviz_views.report_bertviz_html(c)\n"
        "assert faith.computed == {'baseline': 0, 'humal': 0}, faith.computed\n"
        "assert 'transformers' not in sys.modules, 'a warm report loaded transformers'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_cache_key_ignores_the_model_card_but_not_the_weights(tiny_pair, tmp_path):
    """A rewritten model card (every run writes one) keeps the caches; changed weights or
    config do not."""
    import shutil

    folder = shutil.copytree(tiny_pair[0], tmp_path / "run")
    model_dir = folder / runs.MODEL_DIR
    key = model_cache.cache_key(model_dir, "faithfulness", 12, "cpu", "fp32")
    (model_dir / "README.md").write_text("---\nlicense: mit\n---\nAnother card.\n")
    assert model_cache.cache_key(model_dir, "faithfulness", 12, "cpu", "fp32") == key
    config = model_dir / "config.json"
    config.write_text(config.read_text() + " ")
    assert model_cache.cache_key(model_dir, "faithfulness", 12, "cpu", "fp32") != key


def test_the_cache_key_holds_the_precision(tiny_pair, tmp_path, monkeypatch):
    """fp32 and bf16 probabilities are cached apart: `auto` on a CPU with native bf16 (here
    said to have it) reads nothing that fp32 wrote, and is stored as what it ran in."""
    import shutil

    from humal_nb.method import inference

    folder = shutil.copytree(tiny_pair[0], tmp_path / "run")
    model_dir = folder / runs.MODEL_DIR
    keys = {p: model_cache.cache_key(model_dir, "faithfulness", 12, "cpu", p) for p in ("fp32", "bf16")}
    assert keys["fp32"] != keys["bf16"]
    assert keys["fp32"] != model_cache.cache_key(model_dir, "faithfulness", 16, "cpu", "fp32")  # max_length
    assert keys["fp32"] != model_cache.cache_key(model_dir, "faithfulness", 12, "cuda", "fp32")  # device
    texts = random_texts(3, 14, seed=9)
    (folder / FAITHFULNESS_CACHE_FILE).unlink(missing_ok=True)
    assert faithfulness.cached_precision(folder) is None
    fp32 = faithfulness.ModelPredictor(folder, device="cpu", precision="fp32")
    fp32(texts)
    assert faithfulness.cached_precision(folder) == "fp32"
    monkeypatch.setattr(inference, "cpu_has_bf16", lambda: True)
    auto = faithfulness.ModelPredictor(folder, device="cpu", precision="auto")
    assert auto.precision == "bf16" and auto.fingerprint != fp32.fingerprint and auto.cache == {}
    np.testing.assert_allclose(auto(texts), fp32(texts), atol=0.05)
    assert auto.computed == 3 and auto.store.writes == 1
    again = faithfulness.ModelPredictor(folder, device="cpu", precision="bf16")
    again(texts)
    assert again.computed == 0  # what auto stored as bf16 is bf16's
    assert faithfulness.cached_precision(folder) == "bf16"  # what `humal-nb tables` then reads in
    monkeypatch.setattr(inference, "cpu_has_bf16", lambda: False)
    assert faithfulness.ModelPredictor(folder, device="cpu", precision="auto").precision == "fp32"
    with pytest.raises(ParameterError, match="no native bf16"):
        faithfulness.ModelPredictor(folder, device="cpu", precision="bf16")
    with pytest.raises(ParameterError, match="precision 'fp16' is unknown; valid values: auto, fp32, bf16"):
        faithfulness.ModelPredictor(folder, device="cpu", precision="fp16")


def test_a_cache_file_of_another_key_or_unreadable_is_not_read(tmp_path):
    path = tmp_path / "cache.json"
    store = model_cache.KeyedCache(path, "k1")
    store.entries["a"] = 0.25
    store.save()
    assert model_cache.KeyedCache(path, "k1").entries == {"a": 0.25}
    assert model_cache.KeyedCache(path, "k2").entries == {}
    path.write_text("{not json")
    assert model_cache.KeyedCache(path, "k1").entries == {}
    assert model_cache.KeyedCache(None, "k1").entries == {}


def test_compare_faithfulness_feeds_the_explorer_and_the_report(tiny_pair):
    comparison = compare.load_comparison(*tiny_pair)
    faith = compare.faithfulness(comparison, seed=0, device="cpu")
    records = faith.records
    assert len(records) == 2 * 4 * 6 * 5 and set(records["model"]) == {"baseline", "humal"}
    assert records["n_words"].max() == 10  # the words the model sees: 12 tokens hold at most 10 (one-token words)
    same = records[(records["model"] == "baseline") & (records["source"] == "random")]
    other = records[(records["model"] == "humal") & (records["source"] == "random")]
    assert same["top"].tolist() == other["top"].tolist()  # one random control for both models
    table = faith.table()
    assert list(table["model"].unique()) == ["Baseline", "HuMAL-AL"]
    assert list(table["source"].unique()) == ["human", "Baseline attention", "HuMAL-AL attention", "random words"]
    both = compare.plausibility_faithfulness(comparison, faith)
    assert len(both) == 16 and list(both["target"].unique()) == ["predicted class", "true label"]
    assert both["iou_f1"].between(0, 1).all()
    row, part = compare.review_erasure(comparison, faith, "r2", 0.2), faith.review("r2", 0.2)
    assert len(row) == 8 and row["removed_words"].str.split().str.len().tolist() == part["k"].tolist()
    assert (part["k"] == np.ceil(0.2 * part["n_words"])).all()
    html = views.faithfulness_html(comparison, faith)
    assert "comprehensiveness (AOPC" in html and "IOU-F1" in html and "random words" in html and "true label" in html
    fig = views.plausibility_faithfulness_figure(both)
    assert len(fig.data) == 16 and sum(t.showlegend for t in fig.data) == 4  # 2 models x 2 targets x 4 sources
    assert "Plotly.newPlot" in views.plausibility_faithfulness_html(comparison, faith)
    assert views.erasure_html(comparison, faith, "r2", 0.2).count("</tr>") == 9  # header + 2 models x 4 sources
    page = views.static_heatmaps_html(comparison, 2, faith)
    assert page.count('class="humal-heatmap"') == 2 and page.count('class="humal-erasure"') == 2
    assert "first layer" in views.rollout_html(comparison)
    browser = explorer.example_browser(comparison, faithfulness=faith)
    assert "P(1) without them" in browser.erasure.value and "comprehensiveness" in browser.faith_tables.value
    browser.rollout.value = True
    assert list(browser.figure.layout.yaxis.ticktext)[3:5] == ["Baseline (rollout)", "HuMAL-AL (rollout)"]
    browser.percent.value = 0.5
    assert "top 50 % words" in browser.erasure.value


def test_without_models_the_sections_say_so(tiny_pair, tmp_path):
    import shutil

    plain = []
    for folder in tiny_pair:
        copy = tmp_path / folder.name
        copy.mkdir()
        for name in (runs.ATTENTION_FILE, runs.METRICS_FILE):
            shutil.copy(folder / name, copy / name)
        plain.append(copy)
    comparison = compare.load_comparison(*plain)
    assert compare.faithfulness(comparison) is None
    for html in (views.faithfulness_html(comparison, None), views.rollout_html(comparison),
                 views.plausibility_faithfulness_html(comparison, None)):
        assert "saved models" in html
    browser = explorer.example_browser(comparison)
    assert browser.rollout.disabled and browser.percent.disabled and browser.erasure.value == ""


# ---------------------------------------------------------------------- the real model
@pytest.mark.slow
def test_faithfulness_of_a_real_pair(minilm_pair):
    """The session's tiny MiniLM pair: the model's full-review probability is the
    saved one where the review fits in max_length, and random words are the least comprehensive."""
    comparison = compare.load_comparison(*minilm_pair)
    faith = compare.faithfulness(comparison, seed=0, percents=(0.1, 0.5))
    records = faith.records[faith.records["percent"] == 0.1]
    saved = comparison.reviews.set_index("review_id")
    for which in ("baseline", "humal"):
        mine = records[(records["model"] == which) & (records["source"] == "human")].set_index("review_id")
        whole = mine["n_words"] == saved.loc[mine.index, "n_words"]
        np.testing.assert_allclose(mine.loc[whole, "full_prob"], saved.loc[whole[whole].index, f"{which}_prob"], atol=1e-5)
    table = faith.table()
    assert table["n_reviews"].eq(20).all() and table["comprehensiveness"].between(-1, 1).all()
