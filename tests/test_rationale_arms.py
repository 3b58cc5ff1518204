"""The arms that ask when people's rationales are worth paying for: `lexicon` and
`random_outside` rationales, `minority_first` budgets, the attention loss's `batch` mean and a
planted shortcut (`data.rationales`, `data.shortcut`), on real Yelp-HAT training subsets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from humal_nb import data
from humal_nb.config import arms
from humal_nb.config.run_config import RunConfig
from humal_nb.core.errors import NotEnoughDataError, ParameterError
from humal_nb.data import shortcut
from humal_nb.data.rationales import lexicon_words, random_outside_rationale
from humal_nb.experiments import train
from humal_nb.method.tokens import encode_texts
from tests.tiny_models import CORPUS, tiny_model, wordpiece_tokenizer


@pytest.fixture(scope="module")
def split(yelp_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    config = RunConfig(data_dir=str(yelp_dir), data_size=250, imbalance_ratio=0.05)
    return train.split(config, train.load_reviews(config))


@pytest.fixture(scope="module")
def subset(split) -> pd.DataFrame:
    return split[0]


def _in_lexicon(word: str) -> bool:
    lexicon = lexicon_words()
    lower = word.lower()
    return lower in lexicon or lower.strip("".join(c for c in map(chr, range(33, 127)) if not c.isalnum())) in lexicon


def test_lexicon_marks_only_lexicon_words_and_is_the_same_every_time(subset):
    first = data.apply_rationales(subset, "lexicon", 1.0, seed=0, bootstrap=0)
    again = data.apply_rationales(subset, "lexicon", 1.0, seed=5, bootstrap=3)
    assert [list(v) for v in first["human_attention"]] == [list(v) for v in again["human_attention"]]
    with_words = 0
    for words, vector in zip(first["words"], first["human_attention"]):
        vector = np.asarray(vector)
        marked = [_in_lexicon(w) for w in words]
        assert list(vector > 0) == marked
        if any(marked):
            with_words += 1
            assert vector.sum() == pytest.approx(1.0)
            assert len(set(vector[vector > 0].round(12))) == 1  # binary, then normalized
        else:
            assert vector.sum() == 0  # no lexicon word: cross-entropy only
    assert with_words > 0.9 * len(subset)
    assert "delicious" in lexicon_words() and "horrible" in lexicon_words()


def test_random_outside_never_marks_a_person_marked_word_and_keeps_the_count(subset):
    out = data.apply_rationales(subset, "random_outside", 1.0, seed=0, bootstrap=0)
    for before, after in zip(subset["human_attention"], out["human_attention"]):
        before, after = np.asarray(before), np.asarray(after)
        assert len(after) == len(before)
        assert not np.any((after > 0) & (before > 0))
        marked, free = int((before > 0).sum()), int((before == 0).sum())
        assert (after > 0).sum() == min(marked, free)
        if after.sum() > 0:
            assert after.sum() == pytest.approx(1.0)
    again = data.apply_rationales(subset, "random_outside", 1.0, seed=0, bootstrap=0)
    other = data.apply_rationales(subset, "random_outside", 1.0, seed=0, bootstrap=1)
    assert [list(v) for v in out["human_attention"]] == [list(v) for v in again["human_attention"]]
    assert [list(v) for v in out["human_attention"]] != [list(v) for v in other["human_attention"]]


def test_random_outside_when_the_person_marked_most_or_every_word():
    assert random_outside_rationale([0.25, 0.25, 0.25, 0.25], 0, 0, "r") == [0.0] * 4
    out = np.asarray(random_outside_rationale([0.4, 0.3, 0.2, 0.0, 0.1], 0, 0, "r"))
    assert out[3] == pytest.approx(1.0) and out.sum() == pytest.approx(1.0)


def test_minority_first_keeps_every_minority_rationale_before_any_other(subset):
    minority = subset["label"] == 1
    assert 5 <= minority.sum() < 30
    for fraction in (0.02, 0.05, 0.1, 0.3):
        keep = data.rationale_subset(subset, fraction, seed=0, bootstrap=0, selection="minority_first")
        assert keep.sum() == int(np.floor(fraction * len(subset) + 0.5))
        if keep[~minority].any():
            assert keep[minority].all()  # no majority rationale before every minority one
        else:
            assert keep[minority].sum() == keep.sum()
    small = data.rationale_subset(subset, 0.1, 0, 0, selection="minority_first")
    large = data.rationale_subset(subset, 0.3, 0, 0, selection="minority_first")
    assert not (small & ~large).any()  # nested
    stratified = data.rationale_subset(subset, 0.1, 0, 0)
    assert stratified[minority].sum() < small[minority].sum()


def test_the_budget_flags_withheld_rationales(subset):
    out = data.apply_rationales(subset, "human", 0.3, seed=0, bootstrap=0)
    kept = [sum(v) > 0 for v in out["human_attention"]]
    assert data.withheld_rows(out) == [not k for k in kept]
    assert data.withheld_rows(subset) == [False] * len(subset)


def test_a_fraction_that_keeps_nothing_suggests_one_that_keeps_something(subset):
    with pytest.raises(NotEnoughDataError, match="use at least") as err:
        data.rationale_subset(subset, 0.001, 0, 0)
    suggested = float(str(err.value).split("use at least ")[1].split(",")[0])
    assert data.rationale_subset(subset, suggested, 0, 0).sum() >= 1


def test_unknown_selection_and_loss_mean_are_refused():
    with pytest.raises(ParameterError, match="rationale_selection"):
        RunConfig(rationale_selection="largest")
    with pytest.raises(ParameterError, match="attention_loss_mean"):
        RunConfig(attention_loss_mean="tokens")
    with pytest.raises(ParameterError, match="shortcut_rate"):
        RunConfig(shortcut_rate=1.5)


def test_defaults_keep_the_cell_names_and_new_arms_name_themselves():
    assert RunConfig().cell_name() == "al_n250_r0.05_b0"
    config = RunConfig(rationale_fraction=0.1, rationale_selection="minority_first")
    assert config.cell_name() == "al_n250_r0.05_b0_f0.1_minority_first"
    assert RunConfig(rationale_fraction=0.1, attention_loss_mean="batch").cell_name().endswith("_f0.1_mean-batch")
    assert RunConfig(rationale_source="random_outside", shortcut_rate=0.5).cell_name().endswith("random_outside_s0.5")
    key = arms.arm_key("al", "human", 0.1, "minority_first", "batch")
    assert key == "al+f0.1+minority_first+batch"
    assert arms.arm_parts(key)["rationale_selection"] == "minority_first"
    assert arms.split_key(key) == ("al", "human", 0.1)
    assert arms.label(key) == "HuMAL-AL, 10 % rationales, minority first, loss over the batch"
    assert arms.label("al+random_outside") == "HuMAL-AL, random outside"
    folded = arms.fold(pd.DataFrame({"strategy": ["al", "al"], "rationale_source": ["human", "lexicon"],
                                     "rationale_fraction": [0.1, 1.0],
                                     "rationale_selection": ["minority_first", "stratified"]}))
    assert list(folded["strategy"]) == ["al+f0.1+minority_first", "al+lexicon"]


# ---------------------------------------------------------------------- the planted shortcut
def test_the_shortcut_is_planted_only_in_the_share_and_in_the_flipped_test(split):
    training, test = split
    planted = shortcut.plant_shortcut(training, 0.4, seed=0, bootstrap=0)
    chosen = planted[shortcut.PLANTED_COLUMN]
    for _, group in planted.groupby("label"):
        assert chosen[group.index].sum() == int(np.floor(0.4 * len(group) + 0.5))
    for (_, row), (_, before) in zip(planted.iterrows(), training.iterrows()):
        token = shortcut.SHORTCUT_TOKENS[int(row["label"])]
        other = shortcut.SHORTCUT_TOKENS[1 - int(row["label"])]
        if row[shortcut.PLANTED_COLUMN]:
            assert token in row["words"] and other not in row["words"]
            assert row["text"] == " ".join(row["words"])
            for m in row["maps"]:
                assert len(m) == len(row["words"])
            human = np.asarray(row["human_attention"])
            places = [i for i, w in enumerate(row["words"]) if w == token]
            assert human[places].sum() == 0 and all(m[i] == 0 for m in row["maps"] for i in places)
            assert human.sum() == pytest.approx(1.0)
        else:
            assert list(row["words"]) == list(before["words"])
    assert planted["review_id"].tolist() == training["review_id"].tolist()
    # the clean test set is never planted; the flipped one carries the other class's token everywhere
    assert shortcut.plant_shortcut(test, 0.0) is test
    flipped = shortcut.flipped_test(test)
    for _, row in flipped.iterrows():
        assert shortcut.SHORTCUT_TOKENS[1 - int(row["label"])] in row["words"]
        assert shortcut.SHORTCUT_TOKENS[int(row["label"])] not in row["words"] or "!" in row["words"] and "?" in row["words"]
    assert test["words"].map(tuple).tolist() != flipped["words"].map(tuple).tolist()


def test_plant_words_splits_sentence_ends_and_appends_where_there_is_none():
    assert shortcut.plant_words(["Great", "food.", "Loved", "it!!"], "?") == (
        ["Great", "food", "?", "Loved", "it", "?"], [0, 1, 3, 4])
    assert shortcut.plant_words(["no", "end", "here"], "!") == (["no", "end", "here", "!"], [0, 1, 2])
    assert shortcut.plant_words(["wow", "..."], "!") == (["wow", "!"], [0, None])


# ---------------------------------------------------------------------- the loss's mean
def _encoded(tokenizer, model, empty=()):
    pool = " ".join(CORPUS).split()
    words = [pool[i: i + 4 + i % 5] for i in range(8)]
    human = [[0.0] * len(w) if i in empty else [1.0 if j % 2 == 0 else 0.0 for j in range(len(w))]
             for i, w in enumerate(words)]
    return encode_texts(tokenizer, model.family, words, human, max_length=32)


def _grads(model, tokenizer, encoded, size, withheld):
    model.zero_grad(set_to_none=True)
    labels = torch.tensor([i % 2 for i in range(len(encoded))])
    train.backward_batch(model, tokenizer, encoded, list(range(8)), labels, size, torch.device("cpu"),
                         withheld=withheld)
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("size", [0, 3])
def test_batch_and_rationales_give_the_same_loss_at_fraction_one(size):
    tokenizer = wordpiece_tokenizer()
    model = tiny_model("bert", "al", seed=3, alpha=2.0)
    encoded = _encoded(tokenizer, model)
    # at fraction 1 nothing is withheld: `_withheld_in` gives 0 for `batch` as for `rationales`
    assert train._withheld_in(list(range(8)), [False] * 8, "batch") == 0
    rationales = _grads(model, tokenizer, encoded, size, 0)
    batch = _grads(model, tokenizer, encoded, size, train._withheld_in(list(range(8)), [False] * 8, "batch"))
    for name in rationales:
        assert torch.equal(rationales[name], batch[name]), name


def test_batch_mean_weighs_each_rationale_as_without_a_budget():
    """Two rows withheld: `batch` divides the attention loss by 8 rows, `rationales` by 6; with
    alpha scaled by 6/8 the `rationales` gradient is the `batch` one."""
    tokenizer = wordpiece_tokenizer()
    model = tiny_model("bert", "al", seed=3, alpha=2.0)
    encoded = _encoded(tokenizer, model, empty=(2, 5))
    batch = _grads(model, tokenizer, encoded, 0, 2)
    plain = _grads(model, tokenizer, encoded, 0, 0)
    assert any(not torch.allclose(batch[name], plain[name]) for name in batch)  # the attention term differs
    model.config.alpha = 2.0 * 6 / 8
    scaled = _grads(model, tokenizer, encoded, 0, 0)
    for name in batch:
        torch.testing.assert_close(batch[name], scaled[name], rtol=1e-4, atol=1e-6, msg=name)
