"""Attention analysis (paper sec. V-E) on hand-made inputs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humal_nb.measures import analysis as an
from humal_nb.method.tokens import tokens_to_words

WORD_IDS = [None, 0, 0, 1, 2, 2, 2, None]  # [CLS] w0 w0 w1 w2 w2 w2 [SEP]


# ------------------------------------------------------------------ word attention
def test_tokens_to_words_sums_subwords_and_renormalizes():
    tokens = np.array([0.5, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.1])
    words = tokens_to_words(tokens, WORD_IDS)
    # raw word sums: 0.2, 0.05, 0.15 (specials dropped), total 0.4
    np.testing.assert_allclose(words, [0.5, 0.125, 0.375])
    assert words.sum() == pytest.approx(1.0)


def test_tokens_to_words_n_words_truncation_and_zeros():
    words = tokens_to_words([0.0, 1.0, 1.0, 2.0, 0, 0, 0, 0], WORD_IDS, n_words=5)
    np.testing.assert_allclose(words, [0.5, 0.5, 0.0, 0.0, 0.0])  # words 3, 4 truncated away
    np.testing.assert_array_equal(tokens_to_words(np.zeros(8), WORD_IDS), np.zeros(3))
    assert tokens_to_words([1.0, 1.0], [None, None]).shape == (0,)


def test_tokens_to_words_inverts_copy_to_subwords():
    """Forward (human side, tokens.words_to_tokens): t_i = w[word(i)] / S, S = sum_i w[word(i)].

    Word j then holds count_j * w_j / S in total, so the token vector is no longer w: the
    inverse is about mass. Summing sub-word values recovers each word's total mass
    count_j * w_j / S exactly, and tokens_to_words's renormalization divides by
    sum(t) = 1, so it returns exactly w * count / sum(w * count).
    """
    w = np.array([0.2, 0.3, 0.5])
    count = np.array([2, 1, 3])  # sub-words per word in WORD_IDS
    raw = np.array([0.0 if i is None else w[i] for i in WORD_IDS])
    tokens = raw / raw.sum()
    masses = np.array([tokens[[k for k, i in enumerate(WORD_IDS) if i == j]].sum() for j in range(3)])
    np.testing.assert_allclose(tokens_to_words(tokens, WORD_IDS), masses, rtol=0, atol=1e-15)
    np.testing.assert_allclose(tokens_to_words(tokens, WORD_IDS), w * count / (w * count).sum(), atol=1e-15)
    # with one sub-word per word the round trip is the identity
    ids = [None, 0, 1, 2, None]
    single = np.array([0.0, *w, 0.0])
    np.testing.assert_allclose(tokens_to_words(single / single.sum(), ids), w, atol=1e-15)


def test_tokens_to_words_errors():
    with pytest.raises(ValueError, match="7 token values but 8 word ids"):
        tokens_to_words(np.ones(7), WORD_IDS)
    with pytest.raises(ValueError, match="negative"):
        tokens_to_words([0, 1, -1, 0, 0, 0, 0, 0], WORD_IDS)
    with pytest.raises(ValueError, match="n_words is 2"):
        tokens_to_words(np.ones(8), WORD_IDS, n_words=2)


# ------------------------------------------------------------------ position curves
def test_position_curve_uniform_is_one():
    texts = [np.full(n, 1.0 / n) for n in (1, 2, 5, 10, 37)] + [np.ones(4)]
    np.testing.assert_allclose(an.position_curve(texts, n_bins=10), np.ones(10))
    np.testing.assert_allclose(an.position_curve(texts, n_bins=4), np.ones(4))


def test_position_curve_front_loaded_decreases():
    texts = [np.linspace(1.0, 0.0, n) ** 2 for n in (20, 35, 50)]
    curve = an.position_curve(texts, n_bins=5)
    assert np.all(np.diff(curve) < 0)
    assert curve[0] > 1 > curve[-1]


def test_position_curve_bins_and_empty_bins():
    # 3 words at positions 0, 0.5, 1 -> bins 0, 2, 3 of 4; values x3 after normalization
    curve = an.position_curve([[1.0, 2.0, 3.0]], n_bins=4)
    np.testing.assert_allclose(curve[[0, 2, 3]], [0.5, 1.0, 1.5])
    assert math.isnan(curve[1])
    # all-zero and empty texts carry no attention and are left out
    np.testing.assert_allclose(an.position_curve([[1.0, 1.0], [0.0, 0.0], []], n_bins=2), [1.0, 1.0])


def test_position_curves_tidy_frame():
    df = an.position_curves({"human": [np.ones(3)], "bert": [[3.0, 0.0, 0.0]]}, n_bins=2)
    assert list(df.columns) == ["source", "bin", "position", "attention"]
    assert len(df) == 4
    np.testing.assert_allclose(df["position"], [0.25, 0.75, 0.25, 0.75])
    np.testing.assert_allclose(df.loc[df.source == "bert", "attention"], [3.0, 0.0])


# ------------------------------------------------------------ high-attention rates
@pytest.mark.parametrize("rule", ["std", "iqr"])
def test_uniform_attention_has_no_high_words(rule):
    texts = [np.full(n, 1.0 / n) for n in (1, 3, 7, 10, 13)] + [np.zeros(4)]
    assert an.high_attention_rate(texts, rule) == 0.0
    np.testing.assert_array_equal(an.high_attention_rates(texts, rule), np.zeros(6))


@pytest.mark.parametrize("rule", ["std", "iqr"])
@pytest.mark.parametrize("base", [0.0, 1.0])
def test_one_spike_flags_exactly_that_word(rule, base):
    values = np.full(10, base)
    values[6] = base + 5.0
    mask = an.high_attention_mask(values, rule)
    assert mask.dtype == bool
    assert np.flatnonzero(mask).tolist() == [6]


def test_rules_thresholds_differ():
    values = np.array([1.0, 1.0, 2.0, 3.0])  # mean 1.75, std ~0.83 -> 3 flagged; Q3 2.25 + 1.5*1.25 -> none
    assert an.high_attention_mask(values, "std").tolist() == [False, False, False, True]
    assert not an.high_attention_mask(values, "iqr").any()


def test_high_attention_rate_micro_and_per_text():
    spike = np.zeros(10)
    spike[0] = 1.0
    texts = [spike, np.ones(5)]
    assert an.high_attention_rate(texts) == pytest.approx(1 / 15)  # micro: 1 flagged of 15 words
    np.testing.assert_allclose(an.high_attention_rates(texts), [0.1, 0.0])
    assert math.isnan(an.high_attention_rates([[]])[0])


def test_human_highlight_rate_nested_and_flat():
    maps_list = [
        [[1, 0, 0, 0], [1, 1, 0, 0]],  # 3 of 8
        [[0, 0, 1, 0, 0, 0]],  # 1 of 6
    ]
    assert an.human_highlight_rate(maps_list) == pytest.approx(4 / 14)
    flat = [m for maps in maps_list for m in maps]
    assert an.human_highlight_rate(flat) == pytest.approx(4 / 14)
    assert math.isnan(an.human_highlight_rate([]))
    with pytest.raises(ValueError, match="binary"):
        an.human_highlight_rate([[0, 2, 1]])


def test_unknown_rule_lists_valid_ones():
    for call in (an.high_attention_mask, an.high_attention_rate, an.high_attention_rates):
        with pytest.raises(ValueError, match="valid rules: std, iqr"):
            call([[1.0, 2.0]] if call is not an.high_attention_mask else [1.0, 2.0], rule="mad")


# -------------------------------------------------------------------------- cosine
def test_cosine_similarity_known_values():
    assert an.cosine_similarity([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert an.cosine_similarity([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert an.cosine_similarity([1, 0, 0], [0, 1, 1]) == 0.0
    assert an.cosine_similarity([1, 1], [1, 0]) == pytest.approx(1 / math.sqrt(2))
    assert an.cosine_similarity([0, 0], [1, 0]) == 0.0


def test_cosine_table_mean_std():
    human = [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    models = {
        "same": human,
        "mixed": [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]],  # cosines 1, 1/sqrt2, 0
    }
    df = an.cosine_table(human, models)
    assert list(df.columns) == ["model", "cosine_mean", "cosine_std", "n"]
    assert df["model"].tolist() == ["same", "mixed"]
    expected = np.array([1.0, 1 / math.sqrt(2), 0.0])
    row = df.set_index("model").loc["mixed"]
    assert row["cosine_mean"] == pytest.approx(expected.mean())
    assert row["cosine_std"] == pytest.approx(expected.std())  # population std, ddof=0
    assert row["n"] == 3
    assert df.set_index("model").loc["same", "cosine_mean"] == pytest.approx(1.0)
    assert df.set_index("model").loc["same", "cosine_std"] == pytest.approx(0.0)


def test_length_mismatch_names_text_and_lengths():
    human = [[1.0, 0.0], [1.0, 1.0, 1.0]]
    with pytest.raises(ValueError, match=r"text 1: human vector has 3 values but bert has 2"):
        an.cosine_table(human, {"bert": [[1.0, 0.0], [1.0, 0.0]]})
    with pytest.raises(ValueError, match="vectors of different lengths: 2 and 3"):
        an.cosine_similarity([1, 0], [1, 0, 0])
    with pytest.raises(ValueError, match="2 human texts but 1 texts for bert"):
        an.cosine_table(human, {"bert": [[1.0, 0.0]]})


def test_negative_and_nan_values_rejected():
    with pytest.raises(ValueError, match="text 1.*negative"):
        an.high_attention_rate([[1.0], [0.5, -0.1]])
    with pytest.raises(ValueError, match="negative"):
        an.cosine_similarity([1.0, -1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="NaN"):
        an.position_curve([[1.0, float("nan")]])


# -------------------------------------------------------------------- plausibility
def test_consensus_highlights():
    maps = [[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 0]]
    np.testing.assert_array_equal(an.consensus_highlights(maps), [1, 0, 0, 0])  # 1/3 < 0.5
    np.testing.assert_array_equal(an.consensus_highlights(maps[:2]), [1, 1, 1, 0])  # half counts
    np.testing.assert_array_equal(an.consensus_highlights([[0, 1, 1]]), [0, 1, 1])  # one annotator
    np.testing.assert_array_equal(an.consensus_highlights(maps, min_share=1 / 3), [1, 1, 1, 0])
    with pytest.raises(ValueError, match="map 1 has 3 words but map 0 has 4"):
        an.consensus_highlights([[1, 0, 0, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match="min_share"):
        an.consensus_highlights(maps, min_share=0)
    with pytest.raises(ValueError, match="at least one"):
        an.consensus_highlights([])


MAPS_LIST = [
    [[1, 1, 0, 0, 0], [1, 0, 0, 0, 1]],  # consensus [1, 1, 0, 0, 1]
    [[0, 0, 1, 0]],  # consensus [0, 0, 1, 0]
    [[0, 0, 0]],  # empty consensus: not scored
    [[1, 1], [1, 1]],  # every word: not scored
]


def test_plausibility_perfect_machine():
    machine = [an.consensus_highlights(maps).astype(float) for maps in MAPS_LIST]
    result = an.plausibility(machine, MAPS_LIST)
    assert result == {"auprc": 1.0, "token_f1": 1.0, "n_scored": 2, "n_texts": 4}


def test_plausibility_known_values():
    machine = [
        [0.5, 0.05, 0.3, 0.1, 0.05],  # top-3: words 0, 2, 3 -> 1 hit of 3; AP: hits at rank 1, 4, 5(tie)
        [0.1, 0.2, 0.3, 0.4],  # top-1: word 3, miss; gold at rank 2 -> AP 1/2
        [1.0, 0.0, 0.0],
        [0.5, 0.5],
    ]
    result = an.plausibility(machine, MAPS_LIST)
    from sklearn.metrics import average_precision_score

    ap0 = average_precision_score([1, 1, 0, 0, 1], machine[0])
    assert result["auprc"] == pytest.approx((ap0 + 0.5) / 2)
    assert result["token_f1"] == pytest.approx((1 / 3 + 0.0) / 2)
    assert result["n_scored"] == 2


def test_plausibility_table_and_errors():
    perfect = [an.consensus_highlights(maps).astype(float) for maps in MAPS_LIST]
    uniform = [np.ones(len(maps[0])) for maps in MAPS_LIST]
    df = an.plausibility_table(MAPS_LIST, {"perfect": perfect, "uniform": uniform})
    assert list(df.columns) == ["model", "auprc", "token_f1", "n_scored"]
    row = df.set_index("model").loc["uniform"]
    assert row["auprc"] == pytest.approx((3 / 5 + 1 / 4) / 2)  # AP of constant scores = positive share
    assert df.set_index("model").loc["perfect", "auprc"] == 1.0
    bad = [*perfect[:1], np.ones(5), *perfect[2:]]
    with pytest.raises(ValueError, match="text 1: human maps have 4 words but bert has 5"):
        an.plausibility_table(MAPS_LIST, {"bert": bad})
    none_scored = an.plausibility([[1.0, 0.0]], [[[1, 1]]])
    assert math.isnan(none_scored["auprc"]) and none_scored["n_scored"] == 0


# ------------------------------------------------------------------------- summary
def test_attention_summary():
    maps_list = MAPS_LIST[:2]
    human = []
    for maps in maps_list:
        counts = np.sum(maps, axis=0).astype(float)
        human.append(counts / counts.sum())
    spike = [np.array([1.0, 0, 0, 0, 0]), np.array([0, 0, 1.0, 0])]
    df = an.attention_summary(human, maps_list, {"bert": spike, "humal": human})
    assert df.columns.tolist() == an.SUMMARY_COLUMNS
    assert df["model"].tolist() == ["human", "bert", "humal"]
    rows = df.set_index("model")
    assert rows.loc["human", "high_attention_rate"] == pytest.approx(5 / 14)  # 4 of 10 + 1 of 4 map words
    # human vector [2, 1, 0, 0, 1]/4: mean 0.2, std 0.245 -> word 0 flagged; [0, 0, 1, 0] -> word 2
    assert rows.loc["human", "rule_rate"] == pytest.approx(2 / 9)
    assert math.isnan(rows.loc["human", "cosine_mean"])
    assert rows.loc["human", "auprc"] == 1.0 and rows.loc["human", "token_f1"] == 1.0
    assert rows.loc["bert", "high_attention_rate"] == pytest.approx(2 / 9)
    assert rows.loc["humal", "cosine_mean"] == pytest.approx(1.0)
    expected = np.array([2 / math.sqrt(6), 1.0])  # cos([2,1,0,0,1], e0) = 2/sqrt(6)
    assert rows.loc["bert", "cosine_mean"] == pytest.approx(expected.mean())
    assert rows.loc["bert", "cosine_std"] == pytest.approx(expected.std())
    assert rows.loc["bert", "n_scored"] == 2
    with pytest.raises(ValueError, match="valid rules"):
        an.attention_summary(human, maps_list, {}, rule="top5")
    with pytest.raises(ValueError, match="text 1: human vector has 3 values but its maps have 4 words"):
        an.attention_summary([human[0], np.ones(3)], maps_list, {})
    assert isinstance(an.attention_summary(human, maps_list, {}), pd.DataFrame)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]) | st.floats(0, 1)),
                min_size=2, max_size=40))
def test_average_precision_is_sklearns_to_the_last_bit(pairs):
    """Ties, repeated scores and any order: the same float as sklearn's average_precision_score."""
    from sklearn.metrics import average_precision_score

    gold = np.array([g for g, _ in pairs])
    scores = np.array([s for _, s in pairs])
    if gold.sum() == 0:
        gold[0] = 1
    assert an.average_precision(gold, scores) == float(average_precision_score(gold, scores))
    assert an.average_precision(gold, scores.astype(np.float32)) == float(
        average_precision_score(gold, scores.astype(np.float32)))
