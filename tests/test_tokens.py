"""Word-to-token alignment of human attention and its inverse, for three tokenizer kinds."""

import numpy as np
import pytest
import torch
from tiny_models import TOKENIZERS, tiny_model

from humal_nb.core.errors import DataFormatError
from humal_nb.method.tokens import collate, encode_texts, padding_of, tokens_to_words, words_to_tokens

WORDS = [["Unbelievably", "overpriced", "pasta!"], ["great", "food"]]
HUMAN = [[0.5, 0.5, 0.0], [1.0, 0.0]]


def test_words_to_tokens_copies_to_subwords_and_renormalizes():
    out = words_to_tokens([0.5, 0.5, 0.0], [None, 0, 0, 0, 1, 2, None])
    np.testing.assert_allclose(out, [0, 0.25, 0.25, 0.25, 0.25, 0, 0])


def test_tokens_to_words_sums_subwords():
    out = tokens_to_words([0.1, 0.2, 0.3, 0.1, 0.3], [None, 0, 0, 1, None], n_words=3)
    np.testing.assert_allclose(out, [0.5 / 0.6, 0.1 / 0.6, 0.0])


@pytest.mark.parametrize("family", ["bert", "gpt2", "xlnet"])
def test_alignment_for_each_tokenizer(family):
    tokenizer = TOKENIZERS[family]()
    model = tiny_model(family)
    encoded = encode_texts(tokenizer, model.family, WORDS, HUMAN, max_length=64)
    for enc, human in zip(encoded, HUMAN):
        tokens = np.asarray(enc.human)
        assert tokens.sum() == pytest.approx(1.0)
        special = [i for i, w in enumerate(enc.word_ids) if w is None]
        assert np.all(tokens[special] == 0)
        # each sub-word of a word carries the word's (copied) value
        for w, value in enumerate(human):
            values = {round(tokens[i], 9) for i, wid in enumerate(enc.word_ids) if wid == w}
            assert len(values) == 1 and (value > 0) == (values.pop() > 0)
        # summing back gives the share of each word's sub-words
        counts = np.bincount([w for w in enc.word_ids if w is not None], minlength=len(human))
        expected = np.asarray(human) * counts / (np.asarray(human) * counts).sum()
        np.testing.assert_allclose(tokens_to_words(tokens, enc.word_ids, len(human)), expected)
    if family == "gpt2":
        assert all(e.input_ids[0] == tokenizer.bos_token_id and e.word_ids[0] is None for e in encoded)
    if family == "xlnet":
        assert tokenizer.convert_ids_to_tokens(encoded[0].input_ids[-1]) == "<cls>"


def test_truncation_renormalizes():
    tokenizer = TOKENIZERS["bert"]()
    model = tiny_model("bert")
    (enc,) = encode_texts(tokenizer, model.family, [WORDS[0]], [[0.0, 0.5, 0.5]], max_length=8)
    assert len(enc.input_ids) == 8
    assert sum(enc.human) == pytest.approx(1.0)


def test_collate_pads_on_the_family_side():
    batch_right = collate(encode_texts(TOKENIZERS["bert"](), tiny_model("bert").family, WORDS, HUMAN), 0, "right")
    assert batch_right["attention_mask"][1, -1] == 0 and batch_right["attention_mask"][1, 0] == 1
    batch_left = collate(encode_texts(TOKENIZERS["xlnet"](), tiny_model("xlnet").family, WORDS, HUMAN), 0, "left")
    assert batch_left["attention_mask"][1, 0] == 0 and batch_left["attention_mask"][1, -1] == 1
    assert torch.allclose(batch_left["human_tokens"].sum(-1), torch.ones(2))


@pytest.mark.parametrize("family", ["bert", "gpt2", "xlnet"])
def test_segment_ids_follow_the_tokenizer(family):
    tokenizer = TOKENIZERS[family]()
    encoded = encode_texts(tokenizer, tiny_model(family).family, WORDS, HUMAN)
    batch = collate(encoded, *padding_of(tokenizer))
    if family == "gpt2":  # GPT-2's tokenizer gives no segment ids: none are invented
        assert all(e.token_type_ids is None for e in encoded) and "token_type_ids" not in batch
        return
    for e in encoded:
        assert len(e.token_type_ids) == len(e.input_ids)
    if family == "bert":
        assert batch["token_type_ids"].eq(0).all()
    else:  # text and <sep> in segment 0, <cls> in 2, left padding in 3
        for e in encoded:
            assert e.token_type_ids == [0] * (len(e.input_ids) - 1) + [2]
        n_pad = (batch["attention_mask"] == 0).sum(-1).tolist()
        row = n_pad.index(max(n_pad))
        assert n_pad[row] > 0 and batch["token_type_ids"][row, : n_pad[row]].eq(3).all()


def test_mismatched_human_vector_and_empty_text_are_refused():
    tokenizer, family = TOKENIZERS["bert"](), tiny_model("bert").family
    with pytest.raises(DataFormatError, match="2 human attention values for 3 words"):
        encode_texts(tokenizer, family, [WORDS[0]], [[0.5, 0.5]])
    with pytest.raises(DataFormatError, match="no words"):
        encode_texts(tokenizer, family, [[]], [[]])
