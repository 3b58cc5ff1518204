"""Attention rollout: hand-made matrices, the three model families, a real run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import CORPUS, TOKENIZERS, tiny_model

from humal_nb.core.errors import DataFormatError
from humal_nb.method import rollout
from humal_nb.method.attention import family_of, machine_attention
from humal_nb.method.tokens import encode_texts, tokens_to_words

# two layers over three tokens; the heads of layer 0 average to A1, layer 1 has one pattern
A1 = np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
A2 = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
HEADS_1 = np.stack([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                    [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])  # mean: A1
HEADS_2 = np.stack([A2, A2])


# ---------------------------------------------------------------------- hand-made matrices
def test_rollout_of_hand_made_matrices():
    """Ã1 = (A1 + I) / 2 = [[.75, .25, 0], [0, 1, 0], [0, 0, 1]], Ã2 = [[.5, 0, .5], [0, 1, 0], [0, 0, 1]];
    row 0 of Ã2 Ã1 = .5 * [.75, .25, 0] + .5 * [0, 0, 1] = [.375, .125, .5]."""
    heads = np.stack([HEADS_1, HEADS_2])  # [layers, heads, tokens, tokens]
    matrix = rollout.rollout_matrix(heads)
    np.testing.assert_allclose(matrix[0], [0.375, 0.125, 0.5])
    np.testing.assert_allclose(matrix[1:], np.eye(3)[1:])
    np.testing.assert_allclose(matrix, rollout.rollout_matrix(np.stack([A1, A2])))  # heads averaged first
    np.testing.assert_allclose(rollout.rollout_row(heads, cls=0), [0.375, 0.125, 0.5])
    np.testing.assert_allclose(rollout.rollout_row(heads, cls=-1), [0.0, 0.0, 1.0])
    # without the residual identity: plain product, row 0 of A2 A1 = row 2 of A1
    np.testing.assert_allclose(rollout.rollout_matrix(heads, residual=False)[0], [0.0, 0.0, 1.0])
    # one layer: Ã1 itself
    np.testing.assert_allclose(rollout.rollout_matrix(A1[None])[0], [0.75, 0.25, 0.0])
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)


def test_rollout_order_is_last_layer_outermost():
    """Swapping the layers changes the result: R = Ã_L ... Ã_1, not Ã_1 ... Ã_L.
    Row 0 of Ã1 Ã2 = .75 * [.5, 0, .5] + .25 * [0, 1, 0] = [.375, .25, .375]."""
    np.testing.assert_allclose(rollout.rollout_matrix(np.stack([A2, A1]))[0], [0.375, 0.25, 0.375])


def test_rollout_words_sums_sub_words_and_drops_special_tokens():
    # tokens: [CLS] w0 w0 w1 [SEP]; one layer of uniform attention: Ã row 0 = (0.2 + 1, 0.2, 0.2, 0.2, 0.2) / 2
    uniform = np.full((1, 1, 5, 5), 0.2)
    row = rollout.rollout_row(uniform, cls=0)
    np.testing.assert_allclose(row, [0.6, 0.1, 0.1, 0.1, 0.1])
    words = rollout.rollout_words(uniform, 0, [None, 0, 0, 1, None], n_words=3)  # word 2 was truncated
    np.testing.assert_allclose(words, [0.2 / 0.3, 0.1 / 0.3, 0.0])


def test_bad_matrices_are_refused():
    with pytest.raises(DataFormatError, match="layers, heads, tokens, tokens"):
        rollout.rollout_matrix(np.ones((2, 3, 4)))
    with pytest.raises(DataFormatError, match="non-negative"):
        rollout.rollout_matrix(-np.ones((1, 2, 2)))
    with pytest.raises(DataFormatError, match="outside"):
        rollout.rollout_row(np.stack([A1]), cls=3)


def test_cls_position_follows_the_family():
    from transformers import BertConfig, GPT2Config, XLNetConfig

    assert rollout.cls_position(family_of(BertConfig()), 7) == 0
    assert rollout.cls_position(family_of(GPT2Config()), 7) == 6
    assert rollout.cls_position(family_of(XLNetConfig()), 7) == 6


# ---------------------------------------------------------------------- the three families
TEXTS = [s.split() for s in CORPUS[:4]] + [["great", "food"]]


@pytest.mark.parametrize("family", ["bert", "gpt2", "xlnet"])
def test_word_readings_match_eq1_and_do_not_depend_on_padding(family):
    """`last` / `first` are eq. 1 (machine_attention on the unpadded text) summed to words;
    batched texts (padding on the family's side) read as each text alone; the backbone's
    attention kernel is restored afterwards."""
    model, tokenizer = tiny_model(family), TOKENIZERS[family]()
    kernel = model.backbone.config._attn_implementation
    batched = rollout.word_readings(model, tokenizer, TEXTS, max_length=32, batch_size=5)
    alone = rollout.word_readings(model, tokenizer, TEXTS, max_length=32, batch_size=1)
    assert model.backbone.config._attn_implementation == kernel
    for name in rollout.READINGS:
        for a, b in zip(batched[name], alone[name]):
            np.testing.assert_allclose(a, b, atol=1e-5)
    for j, words in enumerate(TEXTS):
        (enc,) = encode_texts(tokenizer, model.family, [words], max_length=32)
        ids = torch.tensor([enc.input_ids])
        types = None if enc.token_type_ids is None else torch.tensor([enc.token_type_ids])
        for name, layer in (("last", -1), ("first", 0)):
            with torch.no_grad():
                row = machine_attention(model, ids, torch.ones_like(ids), layer=layer, token_type_ids=types)
            np.testing.assert_allclose(batched[name][j], tokens_to_words(row[0].numpy(), enc.word_ids, len(words)),
                                       atol=1e-5)
        assert batched["rollout"][j].shape == (len(words),) and batched["rollout"][j].sum() == pytest.approx(1.0)
    # rollout mixes the layers: it is neither the first nor the last layer's row
    assert not np.allclose(batched["rollout"][0], batched["last"][0], atol=1e-4)


def test_word_readings_gives_truncated_words_zero():
    model, tokenizer = tiny_model("bert"), TOKENIZERS["bert"]()
    words = CORPUS[0].split() * 4  # 32 words, cut at 12 tokens
    readings = rollout.word_readings(model, tokenizer, [words], max_length=12)
    assert readings["rollout"][0][11:].sum() == 0 and readings["rollout"][0].sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------- a real run (MiniLM)
@pytest.mark.slow
def test_rollout_of_a_real_run(minilm_pair):
    """On the session's tiny MiniLM pair: the batched `last` reading is the saved eq. 1
    attention, the per-review explorer rollout equals the batched one, and the summary
    reads all three ways for both models."""
    from humal_nb.analyses import compare, model_attention

    comparison = compare.load_comparison(*minilm_pair)
    readings = compare.machine_readings(comparison, "humal")
    for j, (_, row) in enumerate(comparison.reviews.head(5).iterrows()):
        np.testing.assert_allclose(readings["last"][j], row["humal"], atol=1e-5)
        np.testing.assert_allclose(model_attention.rollout_attention(comparison.humal_dir, row["words"]),
                                   readings["rollout"][j], atol=1e-5)
    summary = compare.rollout_summary(comparison)
    assert list(summary["reading"]) == ["last layer (eq. 1)", "first layer", "rollout"] * 2 + ["uniform (every word alike)"]
    saved = compare.cosine_summary(comparison).set_index("model")["cosine_mean"]
    last = summary[summary["reading"] == "last layer (eq. 1)"].set_index("model")["cosine_mean"]
    np.testing.assert_allclose(last.loc[saved.index], saved, atol=1e-9)
    assert summary["cosine_mean"].between(0, 1).all() and (summary["n"] == 20).all()
