"""Length-grouped batches (`group_by_length`): every example once per epoch, seeded, padding cut,
and the plain order unchanged; the tokens a run trained on are recorded in metrics.json."""

import pytest
import torch

from humal_nb.config.run_config import RunConfig
from humal_nb.experiments.train import MEGA_BATCH_BATCHES, epoch_batches, run_experiment


def _padded(batches, lengths):
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def test_plain_batches_are_the_seeded_permutation_cut_in_order():
    lengths = list(range(10, 110))
    batches = epoch_batches(lengths, 32, torch.Generator().manual_seed(7))
    order = torch.randperm(100, generator=torch.Generator().manual_seed(7)).tolist()
    assert batches == [order[0:32], order[32:64], order[64:96], order[96:100]]


def test_grouped_batches_cover_every_example_once_and_pad_less():
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(5, 256, (250,), generator=g).tolist()
    plain = epoch_batches(lengths, 32, torch.Generator().manual_seed(1))
    grouped = epoch_batches(lengths, 32, torch.Generator().manual_seed(1), group_by_length=True)
    assert sorted(i for b in grouped for i in b) == list(range(250))
    assert sorted(map(len, grouped)) == sorted(map(len, plain))  # 7 batches of 32 and one of 26
    real = sum(lengths)
    assert _padded(grouped, lengths) < 1.2 * real < 1.5 * real < _padded(plain, lengths)
    for batch in grouped:  # a batch holds neighbours in length order
        ranks = sorted(range(250), key=lambda i: -lengths[i])
        spots = [ranks.index(i) for i in batch]
        assert max(spots) - min(spots) < len(batch) + 5  # ties may reorder within a few places


def test_grouped_batches_are_seeded_and_shuffled_between_epochs():
    lengths = [(i * 37) % 200 + 1 for i in range(300)]
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    first = [epoch_batches(lengths, 16, g1, True) for _ in range(2)]
    again = [epoch_batches(lengths, 16, g2, True) for _ in range(2)]
    assert first == again
    assert first[0] != first[1]  # the order of batches differs from epoch to epoch


def test_mega_batches_bound_the_sort():
    n = 32 * MEGA_BATCH_BATCHES * 2  # two mega-batches
    lengths = list(range(n))
    batches = epoch_batches(lengths, 32, torch.Generator().manual_seed(0), True)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0)).tolist()
    first_mega = set(order[: n // 2])
    assert all(set(b) <= first_mega or not set(b) & first_mega for b in batches)  # no batch spans both


@pytest.mark.slow
def test_a_run_records_the_real_and_padded_tokens_it_trained_on():
    tiny = dict(data_size=16, imbalance_ratio=0.25, n_test=10, epochs=2, batch_size=4, max_length=256,
                save_model=False, strategy="baseline")
    plain = run_experiment(RunConfig(**tiny), progress=False)
    grouped = run_experiment(RunConfig(group_by_length=True, **tiny), progress=False)
    for metrics in (plain, grouped):
        assert metrics["train_tokens"] == sum(h["tokens"] for h in metrics["history"]) > 0
        assert metrics["train_padded_tokens"] >= metrics["train_tokens"]
        assert metrics["history"][0]["tokens"] == metrics["history"][1]["tokens"]  # every review once an epoch
    assert grouped["train_tokens"] == plain["train_tokens"]
    assert grouped["train_padded_tokens"] < plain["train_padded_tokens"]
    assert grouped["group_by_length"] is True and plain["group_by_length"] is False
