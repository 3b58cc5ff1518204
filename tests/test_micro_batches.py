"""Micro-batches (`micro_batch_size`): a batch run as length-sorted passes accumulates the
same gradient as the batch in one pass, pads less, and leaves the default path unchanged."""

import pytest
import torch

from humal_nb.config.run_config import RunConfig
from humal_nb.core.errors import ParameterError
from humal_nb.experiments.train import backward_batch, micro_batches
from humal_nb.method.tokens import encode_texts
from tests.tiny_models import CORPUS, sentencepiece_tokenizer, tiny_model, wordpiece_tokenizer

TOKENIZERS = {"bert": wordpiece_tokenizer, "xlnet": sentencepiece_tokenizer}


def _texts(tokenizer, model):
    """Eight texts of 2 to 18 words (so of different lengths); two have no human
    attention, so the attention loss's mean runs over six rows."""
    words, human = [], []
    pool = " ".join(CORPUS).split()
    for i in range(8):
        text = pool[i : i + 2 + (5 * i) % 17]
        words.append(text)
        human.append([0.0] * len(text) if i in (2, 5) else [1.0 if j % 3 == 0 else 0.0 for j in range(len(text))])
    return encode_texts(tokenizer, model.family, words, human, max_length=64)


def _gradient(model, tokenizer, encoded, size):
    model.zero_grad(set_to_none=True)
    labels = torch.tensor([i % 2 for i in range(len(encoded))])
    step = backward_batch(model, tokenizer, encoded, list(range(len(encoded))), labels, size, torch.device("cpu"))
    return step, {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def test_micro_batches_sort_by_length_and_cover_the_batch():
    lengths = [5, 40, 12, 33, 7, 21, 60]
    index = [0, 1, 2, 3, 4, 5, 6]
    assert micro_batches(index, lengths, 0) == [index]
    assert micro_batches(index, lengths, 7) == [index]
    assert micro_batches(index, lengths, 3) == [[6, 1, 3], [5, 2, 4], [0]]


@pytest.mark.parametrize("family", ["bert", "xlnet"])
@pytest.mark.parametrize("strategy", ["baseline", "al", "an", "ap"])
def test_passes_accumulate_the_whole_batch_gradient(family, strategy):
    tokenizer = TOKENIZERS[family]()
    model = tiny_model(family, strategy, seed=3, alpha=2.0)  # eval mode: no dropout draws
    encoded = _texts(tokenizer, model)
    assert len({len(e.input_ids) for e in encoded}) > 3
    whole_step, whole = _gradient(model, tokenizer, encoded, 0)
    parts_step, parts = _gradient(model, tokenizer, encoded, 3)
    assert whole.keys() == parts.keys() and len(whole) > 10
    for name in whole:
        torch.testing.assert_close(parts[name], whole[name], rtol=1e-4, atol=2e-5, msg=name)
    assert parts_step.ce_sum == pytest.approx(whole_step.ce_sum, rel=1e-5)
    assert parts_step.attention_rows == whole_step.attention_rows == 6
    assert parts_step.attention_sum == pytest.approx(whole_step.attention_sum, rel=1e-5)


def test_an_unweighted_sum_of_passes_would_differ():
    """The check above can fail: summing the passes' mean losses (no weights) gives another gradient."""
    tokenizer = wordpiece_tokenizer()
    model = tiny_model("bert", "al", seed=3, alpha=2.0)
    encoded = _texts(tokenizer, model)
    _, whole = _gradient(model, tokenizer, encoded, 0)
    model.zero_grad(set_to_none=True)
    labels = torch.tensor([i % 2 for i in range(len(encoded))])
    for part in micro_batches(list(range(8)), [len(e.input_ids) for e in encoded], 3):
        backward_batch(model, tokenizer, encoded, part, labels, 0, torch.device("cpu"))
    summed = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
    assert not torch.allclose(summed["classifier.weight"], whole["classifier.weight"], rtol=1e-3)


def test_micro_batch_size_must_not_be_negative():
    with pytest.raises(ParameterError, match="micro_batch_size"):
        RunConfig(micro_batch_size=-1)
